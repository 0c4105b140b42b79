// Package account registers users and signs them in: the rules both the
// JSON API and the website follow, written once. Sign-in is throttled per
// client and per account, answers the same for an unknown user as for a
// wrong password, and upgrades old password hashes.
package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/sealed"
)

// Hasher is the password hashing Service needs; *auth.Hasher implements
// it. An interface so that tests can count the hashes a sign-in costs.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (bool, error)
	// VerifyDummy costs what Verify does and always fails: the hash an
	// unknown user's sign-in spends so its timing matches a wrong password.
	VerifyDummy(ctx context.Context, password string) error
	NeedsRehash(encoded string) bool
}

// Service registers and signs in users.
type Service struct {
	Store   blog.Store
	Hasher  Hasher
	Limiter httpsec.Limiter // failed sign-ins, per client and per account
	Log     *slog.Logger
	// Registration is who may register; unset means PolicyInvite.
	Registration Policy
	// Setup is this instance's setup link, or nil when it had an admin
	// at start-up (then the setup page is not found).
	Setup *Setup
	// Now is the clock for invites, the setup link and TOTP codes; nil
	// means time.Now.
	Now func() time.Time

	// Factors keeps second factors (the store).
	Factors blog.TwoFactorStore
	// Keys seal TOTP secrets; nil or empty refuses enrolment with
	// ErrNoTwoFactorKeys.
	Keys *sealed.Keyring
	// MFATokens issue the token between a sign-in's password and its
	// second factor: audience "palisade-mfa", a few minutes' life.
	MFATokens *auth.Tokens
	// Revocations make each mfaToken single-use: the database's, or
	// Redis's when instances share one.
	Revocations blog.RevocationStore
	// Require2FA is who must have a second factor; "" means
	// Require2FAAdmins.
	Require2FA Require2FA
	// Issuer names the blog in authenticator apps (totp.Issuer of the
	// site's title and host); nil means "Palisade".
	Issuer func(ctx context.Context) string

	// WebAuthn is the relying party passkeys are registered with and
	// verified by (NewWebAuthn, from PALISADE_BASE_URL).
	WebAuthn *webauthn.WebAuthn
	// Ceremonies keep a begun passkey ceremony until it finishes: the
	// session store (the database's, or Redis's when instances share
	// one), so that one begun on one instance finishes on another.
	Ceremonies blog.SessionStore
}

// ErrBadCredentials is the one answer to every failed sign-in, whatever
// failed, so it never tells whether an account exists.
var ErrBadCredentials = blog.Errorf(blog.EUNAUTHORIZED, "Invalid username or password")

// ThrottledError says sign-in is refused for now; RetryAfter says how long.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return "sign-in throttled" }

// SignIn checks the credentials of a client (its rate-limit key, from
// httpsec.RateKey). Returns the user, or ErrBadCredentials, a
// *ThrottledError, EUNAVAILABLE when the limiter is down, or auth.ErrBusy.
// For a user with a second factor (u.HasSecondFactor()) the password is
// only the first step: the caller signs nobody in yet, but continues with
// StartSecondFactor.
func (s *Service) SignIn(ctx context.Context, client string, cr blog.Credentials) (blog.User, error) {
	// Throttle before any work: a refused attempt costs no hash. The
	// attempt is counted up front (and given back on success) so that a
	// burst of parallel guesses cannot all slip in before the first failure
	// is recorded.
	clientKey, accountKey := signInKeys(client, cr.Username)
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return blog.User{}, err
	}
	u, err := s.checkPassword(ctx, cr)
	switch {
	case errors.Is(err, ErrBadCredentials):
		// The name is logged only when it is an account's: people type
		// their password into the username field, and what they typed
		// must not be kept. The account's own spelling is logged, not the
		// client's.
		if u.ID != "" {
			logging.Security(ctx, s.Log, "login.failure", slog.String("username", u.Username), slog.String("user", u.ID))
		} else {
			logging.Security(ctx, s.Log, "login.failure", slog.Bool("known_account", false))
		}
		return blog.User{}, err
	case err != nil:
		// Our failure, not the client's guess: it does not count.
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return blog.User{}, err
	}
	if u.HasSecondFactor() {
		// Half a sign-in: the attempt is given back, but the account's
		// failures are not forgotten until the second factor is right too.
		// Otherwise whoever knows the password could wipe the count of
		// wrong codes with each password sign-in and guess codes forever.
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return u, nil
	}
	s.signedIn(ctx, clientKey, accountKey)
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "login.success")
	return u, nil
}

// signInKeys are the limiter keys of a sign-in by client as username.
func signInKeys(client, username string) (clientKey, accountKey string) {
	return "login:client:" + client, "login:account:" + hashKey(blog.UsernameKey(username))
}

// signedIn settles the limits after a whole sign-in: the attempt is given
// back to the client and the account's failures are forgotten.
func (s *Service) signedIn(ctx context.Context, clientKey, accountKey string) {
	s.giveBack(ctx, clientKey)
	if err := s.Limiter.Reset(ctx, accountKey); err != nil {
		// The account's failures then run out with their window instead.
		s.Log.WarnContext(ctx, "sign-in limiter reset failed", "error", err)
	}
}

// takeAttempt counts one sign-in attempt for the client and the account.
func (s *Service) takeAttempt(ctx context.Context, clientKey, accountKey string) error {
	// Sign-in throttling fails closed: without it, passwords could be
	// guessed at full speed.
	unavailable := blog.Errorf(blog.EUNAVAILABLE, "Sign-in is unavailable, please retry")
	throttled := func(d httpsec.Decision, scope string) error {
		logging.Security(ctx, s.Log, "login.throttled", slog.String("scope", scope))
		return &ThrottledError{RetryAfter: d.ResetAfter}
	}
	d, err := s.Limiter.Take(ctx, clientKey)
	if err != nil {
		s.Log.ErrorContext(ctx, "sign-in limiter unavailable", "error", err)
		return unavailable
	}
	if !d.Allowed {
		return throttled(d, "client")
	}
	d, err = s.Limiter.Take(ctx, accountKey)
	if err != nil {
		s.giveBack(ctx, clientKey)
		s.Log.ErrorContext(ctx, "sign-in limiter unavailable", "error", err)
		return unavailable
	}
	if !d.Allowed {
		// The guess was never tried, so it does not use up the client's
		// budget: one locked account must not lock out a shared NAT.
		s.giveBack(ctx, clientKey)
		return throttled(d, "account")
	}
	return nil
}

// giveBack refunds an attempt that turned out not to count. If the limiter
// can't be reached the attempt stays counted, which errs on the safe side.
func (s *Service) giveBack(ctx context.Context, key string) {
	if err := s.Limiter.Refund(ctx, key); err != nil {
		s.Log.WarnContext(ctx, "sign-in limiter refund failed", "error", err)
	}
}

// checkPassword returns the user whose credentials these are, or
// ErrBadCredentials. An unknown or disabled account costs the same hash as
// a wrong password, so timing does not reveal which it was. With
// ErrBadCredentials the user is returned too when the account exists (for
// the log only), and is zero when it does not.
func (s *Service) checkPassword(ctx context.Context, cr blog.Credentials) (blog.User, error) {
	if len(cr.Password) > 4*blog.PasswordMax {
		// Far over any valid length: refuse without hashing megabytes.
		return blog.User{}, ErrBadCredentials
	}
	var (
		u    blog.User
		hash string
		err  error
	)
	if blog.ValidUsername(cr.Username) {
		u, hash, err = s.Store.Credentials(ctx, cr.Username)
	} else {
		// No account can have this name (and Unicode case folding must
		// not turn a look-alike such as the Kelvin sign into a real one).
		err = blog.ErrUserNotFound
	}
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		if err := s.Hasher.VerifyDummy(ctx, cr.Password); err != nil {
			return blog.User{}, err
		}
		return blog.User{}, ErrBadCredentials
	}
	if err != nil {
		return blog.User{}, err
	}
	ok, err := s.Hasher.Verify(ctx, cr.Password, hash)
	if err != nil {
		return blog.User{}, err
	}
	if !ok || u.Disabled {
		return u, ErrBadCredentials
	}
	if s.Hasher.NeedsRehash(hash) {
		// Parameters were raised since this hash was made: upgrade it now,
		// while we have the password. Failure is not fatal to sign-in.
		if newHash, err := s.Hasher.Hash(ctx, cr.Password); err == nil {
			if err := s.Store.SetPasswordHash(ctx, u.ID, newHash, blog.PasswordRehashed); err != nil {
				s.Log.WarnContext(ctx, "rehash failed", "error", err)
			}
		}
	}
	return u, nil
}

// hashKey keeps client-chosen strings out of limiter keys: a fixed-length
// digest can't collide with another namespace or bloat memory.
func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
