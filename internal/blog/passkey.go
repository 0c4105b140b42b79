package blog

import (
	"context"
	"time"
)

// Passkey is a WebAuthn credential registered to an account. Nothing in it
// is secret: the private key never leaves the authenticator, and the public
// key only verifies.
type Passkey struct {
	// ID is the credential ID the authenticator chose, base64url without
	// padding; unique across every account.
	ID     string `json:"id"`
	UserID string `json:"userId"`
	// Name is what the account's owner calls it ("Phone", "YubiKey"):
	// PasskeyNameMin to PasskeyNameMax characters (ValidPasskeyName).
	Name string `json:"name"`
	// PublicKey is the credential's COSE public key.
	PublicKey []byte `json:"publicKey"`
	// AttestationType is what the authenticator attested at registration
	// ("none" for most passkeys).
	AttestationType string `json:"attestationType"`
	// AAGUID names the authenticator's model (16 bytes, zero when the
	// authenticator does not say).
	AAGUID []byte `json:"aaguid,omitempty"`
	// Transports are the authenticator's hints ("internal", "usb",
	// "hybrid"…), passed back to the browser at sign-in. nil (the
	// authenticator said nothing) is kept apart from an empty list, in
	// JSON too: omitzero leaves out nil only.
	Transports []string `json:"transports,omitzero"`
	// SignCount is the authenticator's signature counter at the last use;
	// synced passkeys always report 0.
	SignCount uint32 `json:"signCount"`
	// BackupEligible and BackupState are the authenticator's flags: may
	// the credential be synced to other devices, and is it.
	BackupEligible bool `json:"backupEligible"`
	BackupState    bool `json:"backupState"`
	// CreatedAt is when it was added; AddPasskey sets it (Now) when it is
	// zero.
	CreatedAt time.Time `json:"createdAt"`
	// LastUsedAt is zero until the first sign-in with it.
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

// Bounds on passkeys.
const (
	// MaxPasskeys is how many passkeys one account may have.
	MaxPasskeys    = 20
	PasskeyNameMin = 1
	PasskeyNameMax = 64
)

// Passkey errors.
var (
	ErrPasskeyNotFound = Errorf(ENOTFOUND, "Passkey not found")
	// ErrPasskeyExists: this authenticator's credential is registered
	// already (to this account or another).
	ErrPasskeyExists = Errorf(ECONFLICT, "This passkey is already registered")
	// ErrTooManyPasskeys: the account has MaxPasskeys.
	ErrTooManyPasskeys = Errorf(ECONFLICT, "An account can have at most 20 passkeys: remove one first")
	// ErrPasskeyCounter: the authenticator's signature counter did not
	// move forward, which a cloned authenticator would show; the sign-in
	// is refused.
	ErrPasskeyCounter = Errorf(EUNAUTHORIZED, "This passkey can't be used: its authenticator may have been copied")
	// ErrInvalidPasskeyName: a name outside the bounds.
	ErrInvalidPasskeyName = Errorf(EINVALID, "A passkey's name must be 1 to 64 characters")
)

// ValidPasskeyName reports whether name, already trimmed, is within the
// bounds and has no control characters.
func ValidPasskeyName(name string) bool {
	n := 0
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
		n++
	}
	return n >= PasskeyNameMin && n <= PasskeyNameMax
}

// PasskeyStore keeps passkeys. Adding or removing one bumps the account's
// token version in the same atomic write (every other session and token
// ends; the caller signs the current one in again), as every change to a
// factor does. Each returns ENOTFOUND (ErrUserNotFound) for an unknown
// user.
type PasskeyStore interface {
	// AddPasskey stores p for p.UserID, checking in the same atomic step
	// that the account has fewer than MaxPasskeys (ErrTooManyPasskeys)
	// and that no account has p.ID (ErrPasskeyExists). An invalid name is
	// ErrInvalidPasskeyName. Bumps the token version.
	AddPasskey(ctx context.Context, p Passkey) error
	// Passkeys returns the account's passkeys, oldest first.
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// PasskeyByID returns the passkey with this credential ID, whoever's it
	// is (a passkey sign-in names no account): ErrPasskeyNotFound if none.
	PasskeyByID(ctx context.Context, id string) (Passkey, error)
	// UsePasskey records a sign-in with the passkey: its new counter, its
	// backup state and when. One atomic compare-and-set on the counter: it
	// must be greater than the stored one, unless both are 0 (synced
	// passkeys keep 0), else ErrPasskeyCounter and nothing changes.
	// ErrPasskeyNotFound if there is no such passkey.
	UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error
	// RenamePasskey renames the account's passkey: ErrPasskeyNotFound if
	// it is not the account's, ErrInvalidPasskeyName. No version bump.
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes the account's passkey: ErrPasskeyNotFound if
	// it is not the account's. Bumps the token version.
	DeletePasskey(ctx context.Context, userID, id string) error
}
