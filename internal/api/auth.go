package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// userBody is the public view of an account.
type userBody struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Role      blog.Role `json:"role,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

func (d *Deps) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var reg blog.Registration
		if err := decode(w, r, &reg); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := reg.Clean(auth.IsCommonPassword); err != nil {
			d.writeError(w, r, err)
			return
		}
		hash, err := d.Hasher.Hash(r.Context(), reg.Password)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		u, err := d.Store.CreateUser(r.Context(), blog.NewUser{Username: reg.Username, PasswordHash: hash, Role: blog.RoleUser})
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		logging.SetUser(r.Context(), u.ID)
		logging.Security(r.Context(), d.Log, "user.registered")
		writeJSON(w, http.StatusCreated, map[string]userBody{"user": {ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt}})
	})
}

// errBadCredentials is the one answer to every failed sign-in, whatever
// failed, so the response never tells whether an account exists.
var errBadCredentials = blog.Errorf(blog.EUNAUTHORIZED, "Invalid username or password")

func (d *Deps) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var cr blog.Credentials
		if err := decode(w, r, &cr); err != nil {
			d.writeError(w, r, err)
			return
		}
		ctx := r.Context()
		// Throttle before any work: a refused attempt costs no hash. A
		// hit is counted up front (and given back on success) so that a
		// burst of parallel guesses cannot all slip in before the first
		// failure is recorded.
		clientKey := "login:client:" + httpsec.RateKey(d.ClientIP.Addr(r))
		accountKey := "login:account:" + hashKey(blog.UsernameKey(cr.Username))
		if ok := d.takeLoginAttempt(w, r, clientKey, accountKey); !ok {
			return
		}

		u, err := d.checkPassword(ctx, cr)
		if errors.Is(err, errBadCredentials) {
			logging.Security(ctx, d.Log, "login.failure", slog.String("username", truncate(cr.Username, blog.UsernameMax)))
			d.writeError(w, r, err)
			return
		}
		if err != nil {
			d.LoginLimiter.Refund(ctx, clientKey)
			d.LoginLimiter.Refund(ctx, accountKey)
			d.writeError(w, r, err)
			return
		}
		// Success: the attempt is given back to the client and the
		// account's failures are forgotten.
		d.LoginLimiter.Refund(ctx, clientKey)
		d.LoginLimiter.Reset(ctx, accountKey)

		token, claims, err := d.Tokens.Issue(u.ID, u.TokenVersion)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		logging.SetUser(ctx, u.ID)
		logging.Security(ctx, d.Log, "login.success")
		writeJSON(w, http.StatusOK, map[string]any{"token": token, "expiresAt": claims.ExpiresAt.UTC()})
	})
}

// takeLoginAttempt counts one sign-in attempt for the client and the
// account and answers 429 (returning false) if either is over its limit.
func (d *Deps) takeLoginAttempt(w http.ResponseWriter, r *http.Request, clientKey, accountKey string) bool {
	ctx := r.Context()
	refuse := func(dec httpsec.Decision, scope string) bool {
		logging.Security(ctx, d.Log, "login.throttled", slog.String("scope", scope))
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((dec.ResetAfter+time.Second-1)/time.Second))))
		WriteRateLimited(w, r)
		return false
	}
	dec, err := d.LoginLimiter.Take(ctx, clientKey)
	if err != nil {
		// Sign-in throttling fails closed: without it, passwords could be
		// guessed at full speed.
		d.writeError(w, r, blog.Errorf(blog.EUNAVAILABLE, "Sign-in is unavailable, please retry"))
		return false
	}
	if !dec.Allowed {
		return refuse(dec, "client")
	}
	dec, err = d.LoginLimiter.Take(ctx, accountKey)
	if err != nil {
		d.LoginLimiter.Refund(ctx, clientKey)
		d.writeError(w, r, blog.Errorf(blog.EUNAVAILABLE, "Sign-in is unavailable, please retry"))
		return false
	}
	if !dec.Allowed {
		// The guess was never tried, so it does not use up the client's
		// budget; one locked account must not lock out a shared NAT.
		d.LoginLimiter.Refund(ctx, clientKey)
		return refuse(dec, "account")
	}
	return true
}

// checkPassword returns the user whose credentials these are, or
// errBadCredentials. An unknown or disabled account costs the same hash
// as a wrong password, so timing does not reveal which it was.
func (d *Deps) checkPassword(ctx context.Context, cr blog.Credentials) (blog.User, error) {
	if len(cr.Password) > 4*blog.PasswordMax {
		// Far over any valid length: refuse without hashing megabytes.
		return blog.User{}, errBadCredentials
	}
	var (
		u    blog.User
		hash string
		err  error
	)
	if blog.ValidUsername(cr.Username) {
		u, hash, err = d.Store.Credentials(ctx, cr.Username)
	} else {
		// No account can have this name (and Unicode case folding must
		// not turn a look-alike such as the Kelvin sign into a real one).
		err = blog.Errorf(blog.ENOTFOUND, "User not found")
	}
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		if err := d.Hasher.VerifyDummy(ctx, cr.Password); err != nil {
			return blog.User{}, err
		}
		return blog.User{}, errBadCredentials
	}
	if err != nil {
		return blog.User{}, err
	}
	ok, err := d.Hasher.Verify(ctx, cr.Password, hash)
	if err != nil {
		return blog.User{}, err
	}
	if !ok || u.Disabled {
		return blog.User{}, errBadCredentials
	}
	if d.Hasher.NeedsRehash(hash) {
		// Parameters were raised since this hash was made: upgrade it now,
		// while we have the password. Failure is not fatal to sign-in.
		if newHash, err := d.Hasher.Hash(ctx, cr.Password); err == nil {
			if err := d.Store.SetPasswordHash(ctx, u.ID, newHash, false); err != nil {
				d.Log.LogAttrs(ctx, slog.LevelWarn, "rehash failed", slog.Any("error", err))
			}
		}
	}
	return u, nil
}

func (d *Deps) handleLogout() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		if err := d.Store.RevokeToken(r.Context(), who.claims.TokenID, who.claims.ExpiresAt); err != nil {
			d.writeError(w, r, err)
			return
		}
		logging.Security(r.Context(), d.Log, "token.revoked", slog.String("reason", "logout"))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (d *Deps) handleMe() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		u := who.user
		writeJSON(w, http.StatusOK, userBody{ID: u.ID, Username: u.Username, Role: u.Role, CreatedAt: u.CreatedAt})
	}
}

// principal is the verified caller of an authenticated route.
type principal struct {
	user   blog.User
	claims auth.Claims
}

// authedHandler is a handler that runs only for a verified caller.
type authedHandler func(w http.ResponseWriter, r *http.Request, who principal)

// errAuthRequired is the tutorial's 401 for every missing or bad token.
var errAuthRequired = blog.Errorf(blog.EUNAUTHORIZED, "Authentication required")

// authenticate verifies the bearer token, and only the bearer token: a
// token in a cookie or the query string is ignored, so no credential is
// ever sent by a browser on its own (no CSRF) or written to access logs and
// Referer headers (no leak). The token must verify, not be revoked, belong
// to an enabled user and carry the user's current token version.
func (d *Deps) authenticate(next authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Whatever the outcome, a response to a credentialed request must
		// not be cached by a browser or proxy.
		w.Header().Set("Cache-Control", "no-store")
		ctx := r.Context()
		who, reason, err := d.verify(ctx, r.Header.Get("Authorization"))
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		if reason != "" {
			if reason != "missing" {
				logging.Security(ctx, d.Log, "auth.rejected", slog.String("reason", reason))
			}
			d.writeError(w, r, errAuthRequired)
			return
		}
		logging.SetUser(ctx, who.user.ID)
		next(w, r, who)
	})
}

// verify returns the caller, or a non-empty reason why the header does not
// authenticate anyone. err is for failures of our own (database down).
func (d *Deps) verify(ctx context.Context, header string) (who principal, reason string, err error) {
	scheme, token, ok := strings.Cut(header, " ")
	if header == "" {
		return principal{}, "missing", nil
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return principal{}, "malformed", nil
	}
	claims, err := d.Tokens.Verify(strings.TrimSpace(token))
	if err != nil {
		return principal{}, "invalid", nil
	}
	revoked, err := d.Store.TokenRevoked(ctx, claims.TokenID)
	if err != nil {
		return principal{}, "", err
	}
	if revoked {
		return principal{}, "revoked", nil
	}
	u, err := d.Store.UserByID(ctx, claims.UserID)
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		return principal{}, "unknown user", nil
	}
	if err != nil {
		return principal{}, "", err
	}
	if u.Disabled {
		return principal{}, "disabled", nil
	}
	if u.TokenVersion != claims.Version {
		return principal{}, "superseded", nil
	}
	return principal{user: u, claims: claims}, "", nil
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
