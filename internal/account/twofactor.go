package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/recovery"
	"github.com/palisade-blog/palisade/internal/sealed"
	"github.com/palisade-blog/palisade/internal/totp"
)

// Require2FA says which accounts must sign in with a second factor
// (PALISADE_REQUIRE_2FA).
type Require2FA string

// Second-factor policies.
const (
	// Require2FAAdmins makes every admin set up a second factor before
	// doing anything else: an admin's password alone opens every account.
	Require2FAAdmins Require2FA = "admins"
	// Require2FAAll makes every account set one up.
	Require2FAAll Require2FA = "all"
	// Require2FANone leaves it to each user.
	Require2FANone Require2FA = "none"
)

// ParseRequire2FA reads a policy's name.
func ParseRequire2FA(s string) (Require2FA, error) {
	switch p := Require2FA(s); p {
	case Require2FAAdmins, Require2FAAll, Require2FANone:
		return p, nil
	}
	return "", fmt.Errorf("%q is not a second-factor policy: use admins, all or none", s)
}

// Second-factor errors, safe to show.
var (
	ErrEnrolRequired   = blog.Errorf(blog.EFORBIDDEN, "Two-factor sign-in is required for this account: set it up first")
	ErrNoTwoFactorKeys = blog.Errorf(blog.ECONFLICT, "This server can't keep authenticator secrets yet: its operator must set PALISADE_2FA_KEYS")
	// ErrBadCode is every refused code, whatever was wrong with it (wrong,
	// already used, malformed), so a client learns nothing but "no".
	ErrBadCode = blog.Errorf(blog.EUNAUTHORIZED, "Invalid code")
	// ErrSignInExpired: the mfaToken of a sign-in's second step is
	// expired, used, forged, or older than a change to the account.
	ErrSignInExpired        = blog.Errorf(blog.EUNAUTHORIZED, "This sign-in has expired or was already used: sign in again")
	ErrSecondFactorRequired = blog.Errorf(blog.EUNAUTHORIZED, "Second factor required")
	ErrReauthRequired       = blog.Errorf(blog.EFORBIDDEN, "Re-authentication required")
)

// require2FA is s.Require2FA, admins when it was left unset.
func (s *Service) require2FA() Require2FA {
	if s.Require2FA == "" {
		return Require2FAAdmins
	}
	return s.Require2FA
}

// PolicyRequires2FA reports whether the policy wants u to have a second
// factor, whether or not u has one yet.
func (s *Service) PolicyRequires2FA(u blog.User) bool {
	switch s.require2FA() {
	case Require2FAAll:
		return true
	case Require2FANone:
		return false
	default:
		return u.Role == blog.RoleAdmin
	}
}

// MustEnrol reports whether the policy requires a second factor and u has
// none: then u may do nothing but set one up (and sign out). It holds
// even when the server has no PALISADE_2FA_KEYS to enrol with: a policy
// that could be switched off by a missing setting would protect nothing.
func (s *Service) MustEnrol(u blog.User) bool {
	return !u.HasSecondFactor() && s.PolicyRequires2FA(u)
}

// issuer is the name authenticator apps show for this blog.
func (s *Service) issuer(ctx context.Context) string {
	if s.Issuer != nil {
		if i := s.Issuer(ctx); i != "" {
			return i
		}
	}
	return "Palisade"
}

// BeginTOTP makes a new pending TOTP secret for u, replacing any pending
// one, and returns it to show once. Returns ErrNoTwoFactorKeys when the
// server can't seal it, ErrTOTPEnabled when u already has one on.
func (s *Service) BeginTOTP(ctx context.Context, u blog.User) (totp.Key, error) {
	if !s.Keys.HasKey() {
		return totp.Key{}, ErrNoTwoFactorKeys
	}
	if u.TOTP {
		return totp.Key{}, blog.ErrTOTPEnabled
	}
	k, err := totp.Generate(s.issuer(ctx), u.Username)
	if err != nil {
		return totp.Key{}, fmt.Errorf("begin totp: %w", err)
	}
	sealedSecret, err := s.Keys.Seal([]byte(k.Secret), sealed.PurposeTOTP, u.ID)
	if err != nil {
		return totp.Key{}, fmt.Errorf("begin totp: %w", err)
	}
	if err := s.Factors.BeginTOTP(ctx, u.ID, sealedSecret); err != nil {
		return totp.Key{}, fmt.Errorf("begin totp: %w", err)
	}
	return k, nil
}

// PendingTOTP returns u's pending secret again (for its QR code), or
// ErrNoPendingTOTP.
func (s *Service) PendingTOTP(ctx context.Context, u blog.User) (totp.Key, error) {
	tf, err := s.Factors.TwoFactor(ctx, u.ID)
	if err != nil {
		return totp.Key{}, fmt.Errorf("pending totp: %w", err)
	}
	if tf.TOTPEnabled || tf.TOTPSecret == "" {
		return totp.Key{}, blog.ErrNoPendingTOTP
	}
	secret, err := s.openSecret(tf.TOTPSecret, u.ID)
	if err != nil {
		return totp.Key{}, err
	}
	return totp.KeyFor(s.issuer(ctx), u.Username, secret)
}

// ConfirmTOTP turns u's pending secret on once code proves the app has
// it, and returns the new recovery codes, to show once. Returns
// ErrBadCode, ErrNoPendingTOTP or ErrTOTPEnabled. It bumps u's token
// version: the caller signs the current client in again.
func (s *Service) ConfirmTOTP(ctx context.Context, u blog.User, code string) ([]string, error) {
	tf, err := s.Factors.TwoFactor(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	switch {
	case tf.TOTPEnabled:
		return nil, blog.ErrTOTPEnabled
	case tf.TOTPSecret == "":
		return nil, blog.ErrNoPendingTOTP
	}
	secret, err := s.openSecret(tf.TOTPSecret, u.ID)
	if err != nil {
		return nil, err
	}
	step, err := totp.Verify(secret, code, s.now(), 0)
	if err != nil {
		return nil, ErrBadCode
	}
	codes, hashes := recovery.Generate(u.ID)
	// The step is recorded as used, so the code typed to confirm can't
	// also sign in.
	if err := s.Factors.EnableTOTP(ctx, u.ID, tf.TOTPSecret, step, hashes); err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	logging.Security(ctx, s.Log, "2fa.totp.enabled")
	return codes, nil
}

// DisableTOTP turns u's authenticator app off and removes its recovery
// codes (ErrTOTPOff if it is off). It bumps u's token version.
func (s *Service) DisableTOTP(ctx context.Context, u blog.User) error {
	tf, err := s.Factors.TwoFactor(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	if !tf.TOTPEnabled {
		return blog.ErrTOTPOff
	}
	if err := s.Factors.DisableTOTP(ctx, u.ID); err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	logging.Security(ctx, s.Log, "2fa.totp.disabled")
	return nil
}

// NewRecoveryCodes replaces u's recovery codes with new ones, returned to
// show once (ErrTOTPOff without an authenticator app). It bumps u's token
// version.
func (s *Service) NewRecoveryCodes(ctx context.Context, u blog.User) ([]string, error) {
	codes, hashes := recovery.Generate(u.ID)
	if err := s.Factors.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, fmt.Errorf("new recovery codes: %w", err)
	}
	logging.Security(ctx, s.Log, "2fa.recovery.regenerated")
	return codes, nil
}

// RecoveryCodesLeft is how many of u's recovery codes are unused.
func (s *Service) RecoveryCodesLeft(ctx context.Context, u blog.User) (int, error) {
	tf, err := s.Factors.TwoFactor(ctx, u.ID)
	if err != nil {
		return 0, fmt.Errorf("recovery codes left: %w", err)
	}
	return len(tf.RecoveryCodes), nil
}

// ResetTwoFactor removes every second factor of the account, its
// authenticator app and its passkeys (for an operator, when its owner lost
// them): ErrTOTPOff when it has none, not even an unfinished setup. It
// reports whether a factor was on: only then did the account's token
// version move, ending its sessions. An authenticator-app setup never
// confirmed is discarded too, but it signed nobody in, so removing it
// ends nothing (and the caller must not say it did).
func (s *Service) ResetTwoFactor(ctx context.Context, userID string) (wasOn bool, err error) {
	tf, err := s.Factors.TwoFactor(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("reset two-factor: %w", err)
	}
	pks, err := s.Store.Passkeys(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("reset two-factor: %w", err)
	}
	hasTOTP := tf.TOTPSecret != "" || len(tf.RecoveryCodes) > 0
	if !hasTOTP && len(pks) == 0 {
		return false, blog.ErrTOTPOff
	}
	if hasTOTP {
		if err := s.Factors.DisableTOTP(ctx, userID); err != nil {
			return false, fmt.Errorf("reset two-factor: %w", err)
		}
	}
	for _, p := range pks {
		err := s.Store.DeletePasskey(ctx, userID, p.ID)
		if err != nil && !errors.Is(err, blog.ErrPasskeyNotFound) { // removed meanwhile: as good
			return false, fmt.Errorf("reset two-factor: %w", err)
		}
	}
	wasOn = tf.TOTPEnabled || len(pks) > 0
	logging.Security(ctx, s.Log, "2fa.reset", slog.String("user", userID), slog.Int("passkeys", len(pks)),
		slog.Bool("totp", tf.TOTPEnabled), slog.Bool("pending_discarded", tf.TOTPSecret != "" && !tf.TOTPEnabled))
	return wasOn, nil
}

// RekeyTwoFactor re-seals every stored TOTP secret under the newest key,
// so that older keys can be removed. It returns how many it re-sealed; a
// secret that no configured key opens is an error (its key was removed
// too early), after the others are done.
func (s *Service) RekeyTwoFactor(ctx context.Context) (int, error) {
	if !s.Keys.HasKey() {
		return 0, ErrNoTwoFactorKeys
	}
	ids, err := s.Factors.TOTPUsers(ctx)
	if err != nil {
		return 0, fmt.Errorf("rekey: %w", err)
	}
	var (
		n    int
		errs []error
	)
	for _, id := range ids {
		changed, err := s.reseal(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", id, err))
			continue
		}
		if changed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// reseal moves one account's secret onto the newest key.
func (s *Service) reseal(ctx context.Context, userID string) (bool, error) {
	tf, err := s.Factors.TwoFactor(ctx, userID)
	if err != nil {
		return false, err
	}
	if tf.TOTPSecret == "" {
		return false, nil
	}
	out, changed, err := s.Keys.Reseal(tf.TOTPSecret, sealed.PurposeTOTP, userID)
	if err != nil || !changed {
		return false, err
	}
	return true, s.Factors.ResealTOTP(ctx, userID, tf.TOTPSecret, out)
}

// SecretsKeysCannotOpen counts the accounts with an authenticator app on
// whose TOTP secret none of keys opens: their codes are refused until the
// key that sealed them is configured again, so they can sign in only with
// a recovery code or a passkey. Start-up calls it to say so once. It
// reads every such account's second factor, one read each.
func SecretsKeysCannotOpen(ctx context.Context, factors blog.TwoFactorStore, keys *sealed.Keyring) (int, error) {
	ids, err := factors.TOTPUsers(ctx)
	if err != nil {
		return 0, fmt.Errorf("check totp secrets: %w", err)
	}
	n := 0
	for _, id := range ids {
		tf, err := factors.TwoFactor(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("check totp secrets: %w", err)
		}
		// A setup never finished signs nobody in: not counted.
		if !tf.TOTPEnabled || tf.TOTPSecret == "" {
			continue
		}
		if _, err := keys.Open(tf.TOTPSecret, sealed.PurposeTOTP, id); err != nil {
			n++
		}
	}
	return n, nil
}

// openSecret unseals a stored TOTP secret. A secret that does not open
// (its key was removed, or the row was tampered with) is our failure,
// not the user's.
func (s *Service) openSecret(sealedSecret, userID string) (string, error) {
	plain, err := s.Keys.Open(sealedSecret, sealed.PurposeTOTP, userID)
	if err != nil {
		return "", fmt.Errorf("open totp secret: %w", err)
	}
	return string(plain), nil
}
