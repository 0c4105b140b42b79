package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/recovery"
	"github.com/palisade-blog/palisade/internal/sealed"
	"github.com/palisade-blog/palisade/internal/totp"
)

// StartSecondFactor is the step after the right password for an account
// with a second factor (u.HasSecondFactor()): it returns the mfaToken
// that FinishSecondFactor takes with the code. The token proves the
// password step only; it signs nobody in.
func (s *Service) StartSecondFactor(ctx context.Context, u blog.User) (string, time.Time, error) {
	if s.MFATokens == nil {
		return "", time.Time{}, errors.New("start second factor: no MFATokens configured")
	}
	token, claims, err := s.MFATokens.Issue(u.ID, u.TokenVersion)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start second factor: %w", err)
	}
	logging.Audit(ctx, s.Log, "login.password_ok", slog.String("user", u.ID))
	return token, claims.ExpiresAt, nil
}

// FinishSecondFactor signs in the holder of mfaToken (from
// StartSecondFactor) if code is a valid TOTP code or an unused recovery
// code of the account. Wrong codes count against the same per-client and
// per-account limits as wrong passwords. The mfaToken works once, and only
// while the account is unchanged. Returns ErrBadCode, ErrSignInExpired, a
// *ThrottledError, or EUNAVAILABLE when the limiter is down.
func (s *Service) FinishSecondFactor(ctx context.Context, client, mfaToken, code string) (blog.User, error) {
	// The token is checked first: it is cheap, and without a valid one
	// there is no account to guess codes for.
	claims, u, err := s.checkMFAToken(ctx, mfaToken)
	if err != nil {
		return blog.User{}, err
	}
	clientKey, accountKey := signInKeys(client, u.Username)
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return blog.User{}, err
	}
	method, err := s.checkCode(ctx, u, code)
	if errors.Is(err, ErrBadCode) {
		logging.Security(ctx, s.Log, "login.failure", slog.String("reason", "second_factor"),
			slog.String("username", u.Username), slog.String("user", u.ID))
		return blog.User{}, err
	}
	if err == nil {
		err = s.claimMFAToken(ctx, u.ID, claims)
	}
	if err != nil {
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return blog.User{}, err
	}
	s.signedIn(ctx, clientKey, accountKey)
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "login.success", slog.String("method", method))
	return u, nil
}

// checkMFAToken returns the claims of a valid, unused mfaToken and its
// account, or ErrSignInExpired.
func (s *Service) checkMFAToken(ctx context.Context, mfaToken string) (mfaClaims, blog.User, error) {
	if s.MFATokens == nil {
		return mfaClaims{}, blog.User{}, errors.New("finish second factor: no MFATokens configured")
	}
	c, err := s.MFATokens.Verify(mfaToken)
	if err != nil {
		return mfaClaims{}, blog.User{}, ErrSignInExpired
	}
	revoked, err := s.Revocations.TokenRevoked(ctx, c.TokenID)
	if err != nil {
		return mfaClaims{}, blog.User{}, fmt.Errorf("finish second factor: %w", err)
	}
	if revoked {
		logging.Security(ctx, s.Log, "login.mfa_token_reused", slog.String("user", c.UserID))
		return mfaClaims{}, blog.User{}, ErrSignInExpired
	}
	u, err := s.Store.UserByID(ctx, c.UserID)
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		return mfaClaims{}, blog.User{}, ErrSignInExpired
	}
	if err != nil {
		return mfaClaims{}, blog.User{}, fmt.Errorf("finish second factor: %w", err)
	}
	// A password change, a disabled account or a factor change since the
	// password step ends the sign-in.
	if u.Disabled || u.TokenVersion != c.Version || !u.HasSecondFactor() {
		return mfaClaims{}, blog.User{}, ErrSignInExpired
	}
	return mfaClaims{TokenID: c.TokenID, ExpiresAt: c.ExpiresAt}, u, nil
}

// claimMFAToken uses the mfaToken up once its second factor has checked
// out, before anyone is signed in with it; if that fails, nobody is.
// checkMFAToken only saw it unused: two requests with one token (two
// recovery codes, or one passkey sent twice) both get past that check, so
// the claim is the atomic step, and only the request that makes it signs
// in. The others get ErrSignInExpired, as if they had come a moment later.
func (s *Service) claimMFAToken(ctx context.Context, userID string, c mfaClaims) error {
	claimed, err := s.Revocations.ClaimToken(ctx, c.TokenID, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("claim mfa token: %w", err)
	}
	if !claimed {
		logging.Security(ctx, s.Log, "login.mfa_token_reused", slog.String("user", userID))
		return ErrSignInExpired
	}
	return nil
}

// mfaClaims is what FinishSecondFactor keeps of an mfaToken: enough to
// revoke it.
type mfaClaims struct {
	TokenID   string
	ExpiresAt time.Time
}

// checkCode checks a TOTP code or a recovery code of u and uses it up.
// It returns the method ("totp" or "recovery"), or ErrBadCode for any code
// that does not sign in, or another error for failures of our own.
func (s *Service) checkCode(ctx context.Context, u blog.User, code string) (string, error) {
	if len(code) > MaxCodeLen {
		return "", ErrBadCode
	}
	tf, err := s.Factors.TwoFactor(ctx, u.ID)
	if err != nil {
		return "", fmt.Errorf("check code: %w", err)
	}
	if !tf.TOTPEnabled {
		return "", ErrBadCode
	}
	if _, ok := recovery.Normalize(code); ok {
		return "recovery", s.useRecoveryCode(ctx, u, tf, code)
	}
	return "totp", s.useTOTPCode(ctx, u, tf, code)
}

// MaxCodeLen bounds a code as typed: a recovery code with its dash and a
// few spaces, far more than a TOTP code.
const MaxCodeLen = 32

func (s *Service) useRecoveryCode(ctx context.Context, u blog.User, tf blog.TwoFactor, code string) error {
	i := recovery.Match(u.ID, code, tf.RecoveryCodes)
	if i < 0 {
		return ErrBadCode
	}
	err := s.Factors.UseRecoveryCode(ctx, u.ID, tf.RecoveryCodes[i])
	if errors.Is(err, blog.ErrCodeUsed) {
		// Used by a concurrent request in the meantime.
		return ErrBadCode
	}
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	logging.Security(ctx, s.Log, "2fa.recovery_used", slog.Int("left", len(tf.RecoveryCodes)-1))
	return nil
}

func (s *Service) useTOTPCode(ctx context.Context, u blog.User, tf blog.TwoFactor, code string) error {
	secret, err := s.openSecret(tf.TOTPSecret, u.ID)
	if err != nil {
		// The key that sealed it is not configured (PALISADE_2FA_KEYS
		// unset or rotated too far), or the stored secret was altered.
		// Our failure, but answered as a wrong code, and counted: as a 500
		// it would be refunded, so whoever has the password could send
		// codes without limit, and would learn that the key is missing.
		// The owner still has the recovery codes, which need no key. The
		// log says what to fix (start-up says it too, with a count).
		s.Log.ErrorContext(ctx, "a TOTP secret can't be opened with the configured PALISADE_2FA_KEYS: its code was refused; the account can sign in only with a recovery code until the key is restored",
			"user", u.ID, "error", err)
		return ErrBadCode
	}
	step, err := totp.Verify(secret, code, s.now(), tf.TOTPLastStep)
	switch {
	case errors.Is(err, totp.ErrReplayed):
		s.logReplay(ctx)
		return ErrBadCode
	case errors.Is(err, totp.ErrWrongCode):
		return ErrBadCode
	case err != nil:
		return fmt.Errorf("check totp code: %w", err)
	}
	err = s.Factors.UseTOTPStep(ctx, u.ID, step)
	if errors.Is(err, blog.ErrCodeUsed) {
		// Another request used this step (or a later one) since we read
		// the last step: the same code, sent twice at once.
		s.logReplay(ctx)
		return ErrBadCode
	}
	if err != nil {
		return fmt.Errorf("use totp step: %w", err)
	}
	s.resealLazily(ctx, u.ID, tf.TOTPSecret)
	return nil
}

// logReplay records a code used a second time: someone saw it (over a
// shoulder, through a phishing proxy) or a client sent it twice.
func (s *Service) logReplay(ctx context.Context) {
	logging.Security(ctx, s.Log, "2fa.replay")
}

// resealLazily moves a secret sealed under an older key onto the newest,
// now that its owner is back, so old keys fall out of use. A failure only
// leaves it for next time (or for "palisade user rekey-2fa").
func (s *Service) resealLazily(ctx context.Context, userID, old string) {
	out, changed, err := s.Keys.Reseal(old, sealed.PurposeTOTP, userID)
	if err == nil && changed {
		err = s.Factors.ResealTOTP(ctx, userID, old, out)
	}
	if err != nil {
		s.Log.WarnContext(ctx, "re-sealing a TOTP secret failed", "error", err)
	}
}
