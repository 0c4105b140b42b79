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

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// Service registers and signs in users.
type Service struct {
	Store   blog.Store
	Hasher  *auth.Hasher
	Limiter httpsec.Limiter // failed sign-ins, per client and per account
	Log     *slog.Logger
}

// ErrBadCredentials is the one answer to every failed sign-in, whatever
// failed, so it never tells whether an account exists.
var ErrBadCredentials = blog.Errorf(blog.EUNAUTHORIZED, "Invalid username or password")

// ThrottledError says sign-in is refused for now; RetryAfter says how long.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return "sign-in throttled" }

// Register validates reg, hashes the password and stores the account.
// Returns a *blog.ValidationError, ECONFLICT, or auth.ErrBusy.
func (s *Service) Register(ctx context.Context, reg blog.Registration) (blog.User, error) {
	if err := reg.Clean(auth.IsCommonPassword); err != nil {
		return blog.User{}, err
	}
	hash, err := s.Hasher.Hash(ctx, reg.Password)
	if err != nil {
		return blog.User{}, err
	}
	u, err := s.Store.CreateUser(ctx, blog.NewUser{Username: reg.Username, PasswordHash: hash, Role: blog.RoleUser})
	if err != nil {
		return blog.User{}, err
	}
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "user.registered")
	return u, nil
}

// SignIn checks the credentials of a client (its rate-limit key, from
// httpsec.RateKey). Returns the user, or ErrBadCredentials, a
// *ThrottledError, EUNAVAILABLE when the limiter is down, or auth.ErrBusy.
func (s *Service) SignIn(ctx context.Context, client string, cr blog.Credentials) (blog.User, error) {
	// Throttle before any work: a refused attempt costs no hash. The
	// attempt is counted up front (and given back on success) so that a
	// burst of parallel guesses cannot all slip in before the first failure
	// is recorded.
	clientKey := "login:client:" + client
	accountKey := "login:account:" + hashKey(blog.UsernameKey(cr.Username))
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return blog.User{}, err
	}
	u, err := s.checkPassword(ctx, cr)
	switch {
	case errors.Is(err, ErrBadCredentials):
		logging.Security(ctx, s.Log, "login.failure", slog.String("username", truncate(cr.Username, blog.UsernameMax)))
		return blog.User{}, err
	case err != nil:
		// Our failure, not the client's guess: it does not count.
		s.Limiter.Refund(ctx, clientKey)
		s.Limiter.Refund(ctx, accountKey)
		return blog.User{}, err
	}
	// Success: the attempt is given back to the client and the account's
	// failures are forgotten.
	s.Limiter.Refund(ctx, clientKey)
	s.Limiter.Reset(ctx, accountKey)
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "login.success")
	return u, nil
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
		s.Limiter.Refund(ctx, clientKey)
		s.Log.ErrorContext(ctx, "sign-in limiter unavailable", "error", err)
		return unavailable
	}
	if !d.Allowed {
		// The guess was never tried, so it does not use up the client's
		// budget: one locked account must not lock out a shared NAT.
		s.Limiter.Refund(ctx, clientKey)
		return throttled(d, "account")
	}
	return nil
}

// checkPassword returns the user whose credentials these are, or
// ErrBadCredentials. An unknown or disabled account costs the same hash as
// a wrong password, so timing does not reveal which it was.
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
		err = blog.Errorf(blog.ENOTFOUND, "User not found")
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
		return blog.User{}, ErrBadCredentials
	}
	if s.Hasher.NeedsRehash(hash) {
		// Parameters were raised since this hash was made: upgrade it now,
		// while we have the password. Failure is not fatal to sign-in.
		if newHash, err := s.Hasher.Hash(ctx, cr.Password); err == nil {
			if err := s.Store.SetPasswordHash(ctx, u.ID, newHash, false); err != nil {
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
