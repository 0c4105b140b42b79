package blog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Invite is a single-use link, made by an admin, that lets one person
// create an account with the invite's role. The store keeps only the
// SHA-256 of the link's token, so a copy of the database holds no usable
// invite.
type Invite struct {
	ID        string     `json:"id"`
	Role      Role       `json:"role"`
	CreatedBy string     `json:"createdBy,omitempty"` // user ID; empty when made on the command line
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	UsedAt    *time.Time `json:"usedAt,omitempty"`
	UsedBy    string     `json:"usedBy,omitempty"` // the account it created
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// Invite states, as Status reports them.
const (
	InvitePending = "pending"
	InviteUsed    = "used"
	InviteRevoked = "revoked"
	InviteExpired = "expired"
)

// Status says whether the invite can still be redeemed at now, and if not
// why: it was used, revoked, or has expired (in that order of precedence).
func (i Invite) Status(now time.Time) string {
	switch {
	case i.UsedAt != nil:
		return InviteUsed
	case i.RevokedAt != nil:
		return InviteRevoked
	case !now.Before(i.ExpiresAt):
		return InviteExpired
	default:
		return InvitePending
	}
}

// NewInvite is what a store needs to create an invite.
type NewInvite struct {
	TokenHash string // InviteTokenHash of the token in the link
	Role      Role
	CreatedBy string // the admin's user ID, or empty for the command line
	ExpiresAt time.Time
}

// Invite lifetimes.
const (
	DefaultInviteLifetime = 7 * 24 * time.Hour
	MaxInviteLifetime     = 30 * 24 * time.Hour
	// MaxListInvites caps InviteStore.ListInvites: the newest are the
	// ones worth seeing.
	MaxListInvites = 1000
)

// ErrInviteInvalid is the one answer to every refused invite: unknown,
// used, revoked or expired. Saying which would tell someone holding a
// guessed or stolen link more than they need.
var ErrInviteInvalid = Errorf(EFORBIDDEN, "Invite link is invalid or has expired")

// ErrInviteNotFound is RevokeInvite's answer for an unknown invite ID.
var ErrInviteNotFound = Errorf(ENOTFOUND, "Invite not found")

// ErrInviteExists is a store's answer to a second invite with the same
// token hash: with 32 random bytes it means a caller reused a token.
var ErrInviteExists = Errorf(ECONFLICT, "Invite already exists")

// Validate checks an invite before a store keeps it: a known role, the
// shape of a token hash, a creator that is empty or an ID, and an expiry
// after now and at most MaxInviteLifetime away.
func (n NewInvite) Validate(now time.Time) error {
	switch {
	case !n.Role.Valid():
		return Errorf(EINVALID, "Invalid role")
	case !ValidInviteTokenHash(n.TokenHash):
		return Errorf(EINVALID, "Invalid invite token hash")
	case n.CreatedBy != "" && !ValidID(n.CreatedBy):
		return Errorf(ENOTFOUND, "User not found")
	case !n.ExpiresAt.After(now):
		return Errorf(EINVALID, "An invite must expire in the future")
	case n.ExpiresAt.Sub(now) > MaxInviteLifetime:
		return Errorf(EINVALID, "An invite may last at most 30 days")
	}
	return nil
}

// inviteTokenBytes is the token's entropy: 256 bits, far past guessing.
const inviteTokenBytes = 32

// NewInviteToken returns a new random invite token, as it goes in the
// link (base64url without padding, 43 characters), and the hash the store
// keeps.
func NewInviteToken() (token, hash string) {
	var b [inviteTokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, InviteTokenHash(token)
}

// InviteTokenHash returns the SHA-256 of a token in hexadecimal: what the
// store keeps and looks invites up by. A plain hash is enough (no salt,
// no slow hash) because the token is 256 random bits, not a password.
func InviteTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidInviteToken reports whether s has the shape of a token made by
// NewInviteToken, so a mangled link is refused before any query runs.
func ValidInviteToken(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == inviteTokenBytes
}

// ValidInviteTokenHash reports whether s has the shape of InviteTokenHash's
// result: 64 lower-case hexadecimal digits.
func ValidInviteTokenHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// InviteStore keeps invites. It sees only token hashes, never tokens.
type InviteStore interface {
	// CreateInvite stores a new, unused invite. Returns EINVALID if n
	// fails Validate, ENOTFOUND if n.CreatedBy names no user, and
	// ECONFLICT if the token hash is already stored (a new token never
	// is).
	CreateInvite(ctx context.Context, n NewInvite) (Invite, error)
	// ListInvites returns the newest MaxListInvites invites, newest first,
	// whatever their status.
	ListInvites(ctx context.Context) ([]Invite, error)
	// RevokeInvite makes an invite unusable. Returns ErrInviteNotFound
	// (ENOTFOUND) if there is no invite with that ID. Revoking twice, or
	// revoking a used invite, is not an error and changes nothing.
	RevokeInvite(ctx context.Context, id string) error
	// InviteUsable reads, and changes nothing, whether an invite with
	// this token hash could be redeemed at now: nil if so, else
	// ErrInviteInvalid (EFORBIDDEN) for the same reasons, and with the
	// same one answer, as RedeemInvite. It is the cheap check that lets a
	// registration refuse a guessed or spent invite before it pays for a
	// password hash; RedeemInvite still decides, since another redeem
	// may use the invite in between.
	InviteUsable(ctx context.Context, tokenHash string, now time.Time) error
	// RedeemInvite creates the account u with the invite's role (u.Role
	// is ignored) and marks the invite used by it, in one atomic step:
	// of two concurrent redeems of one invite, exactly one creates an
	// account. Returns ErrInviteInvalid (EFORBIDDEN) if no invite has
	// this token hash, or it is used, revoked or expired at now; one
	// answer for all of them. Returns ErrUsernameTaken as CreateUser, and
	// then the invite stays unused so its holder can pick another name.
	RedeemInvite(ctx context.Context, tokenHash string, u NewUser, now time.Time) (User, error)
}
