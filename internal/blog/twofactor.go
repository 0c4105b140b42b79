package blog

import "context"

// TwoFactor is an account's second-factor state as a store keeps it. The
// TOTP secret is kept sealed (package sealed): the store never sees it in
// the clear, so a dump of the database alone does not yield it.
type TwoFactor struct {
	// TOTPSecret is the sealed TOTP secret, or "" when the account has
	// none. While TOTPEnabled is false it is an enrolment in progress,
	// waiting for its first valid code.
	TOTPSecret  string
	TOTPEnabled bool
	// TOTPLastStep is the last time step a code was accepted for (0 if
	// none): a code of that step or an earlier one is refused, so a code
	// seen over a shoulder can't be used again.
	TOTPLastStep int64
	// RecoveryCodes are the hashes of the unused recovery codes (package
	// recovery), in no particular order.
	RecoveryCodes []string
}

// Second-factor errors.
var (
	// ErrTOTPEnabled: the account already has an authenticator app; turn
	// it off before setting up another.
	ErrTOTPEnabled = Errorf(ECONFLICT, "Two-factor sign-in with an authenticator app is already on")
	// ErrNoPendingTOTP: nothing to confirm, or the enrolment was replaced
	// by a newer one (in another tab) since its secret was shown.
	ErrNoPendingTOTP = Errorf(ECONFLICT, "No authenticator app is being set up, or a newer setup replaced this one: start again")
	// ErrTOTPOff: there is no authenticator app to act on.
	ErrTOTPOff = Errorf(ECONFLICT, "Two-factor sign-in with an authenticator app is off")
	// ErrCodeUsed: a TOTP step not after the last one used, or a recovery
	// code that is not (or no longer) among the account's unused codes.
	ErrCodeUsed = Errorf(EUNAUTHORIZED, "Invalid code")
)

// TwoFactorStore keeps second factors. Every call that changes a factor
// also bumps the account's token version in the same atomic write, so
// every token and session issued before the change stops working (the
// caller signs the current one in again). Each returns ENOTFOUND for an
// unknown user.
type TwoFactorStore interface {
	// TwoFactor returns the account's second-factor state.
	TwoFactor(ctx context.Context, userID string) (TwoFactor, error)
	// BeginTOTP stores sealed as the account's pending TOTP secret,
	// replacing a pending one (and changing no token version: nothing is
	// on yet). Returns ErrTOTPEnabled if TOTP is on.
	BeginTOTP(ctx context.Context, userID, sealed string) error
	// EnableTOTP turns the pending secret on, in one atomic step: only if
	// the stored pending secret is still sealed (else ErrNoPendingTOTP;
	// ErrTOTPEnabled if already on), recording step as the last used one
	// and replacing the recovery codes with recoveryHashes. Bumps the
	// token version.
	EnableTOTP(ctx context.Context, userID, sealed string, step int64, recoveryHashes []string) error
	// UseTOTPStep records step as used only if it is after the last used
	// step, as one atomic compare-and-set, so of two requests with the
	// same code only one succeeds. Returns ErrCodeUsed otherwise, or if
	// TOTP is not on.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// UseRecoveryCode removes hash from the account's unused codes, as one
	// atomic delete: ErrCodeUsed if it is not among them.
	UseRecoveryCode(ctx context.Context, userID, hash string) error
	// ReplaceRecoveryCodes replaces every unused code with hashes. Returns
	// ErrTOTPOff if TOTP is not on. Bumps the token version.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// DisableTOTP removes the TOTP secret (on or pending) and every
	// recovery code. Bumps the token version. Turning off what is off is
	// not an error (and bumps nothing).
	DisableTOTP(ctx context.Context, userID string) error
	// ResealTOTP replaces the sealed secret old with new (the same secret
	// under a newer key), only if old is still what is stored; it returns
	// nil without change otherwise (the secret was replaced meanwhile).
	// The token version is not bumped: the factor did not change.
	ResealTOTP(ctx context.Context, userID, old, new string) error
	// TOTPUsers returns the IDs of every account with a TOTP secret (on or
	// pending), for re-sealing them all under a new key.
	TOTPUsers(ctx context.Context) ([]string, error)
}
