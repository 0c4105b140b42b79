package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// userBody is the public view of an account.
type userBody struct {
	ID        string           `json:"id"`
	Username  string           `json:"username"`
	Role      blog.Role        `json:"role,omitempty"`
	CreatedAt time.Time        `json:"createdAt"`
	TwoFactor *twoFactorStatus `json:"twoFactor,omitempty"` // GET /users/me only
}

func (d *Deps) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var reg blog.Registration
		if err := decode(w, r, &reg); err != nil {
			d.writeError(w, r, err)
			return
		}
		u, err := d.Accounts.Register(r.Context(), reg)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]userBody{"user": {ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt}})
	})
}

func (d *Deps) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var cr blog.Credentials
		if err := decode(w, r, &cr); err != nil {
			d.writeError(w, r, err)
			return
		}
		u, err := d.Accounts.SignIn(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), cr)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		if u.HasSecondFactor() {
			// Only now, after the right password: an unknown user or a
			// wrong password got the one ErrBadCredentials above.
			d.writeSecondFactorRequired(w, r, u)
			return
		}
		d.writeToken(w, r, u)
	})
}

func (d *Deps) handleLogout() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		if err := d.Revocations.RevokeToken(r.Context(), who.claims.TokenID, who.claims.ExpiresAt); err != nil {
			d.writeError(w, r, err)
			return
		}
		logging.Audit(r.Context(), d.Log, "token.revoked", slog.String("reason", "logout")) // the user's own doing: INFO
		w.WriteHeader(http.StatusNoContent)
	}
}

func (d *Deps) handleMe() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		u := who.user
		left := 0
		if u.TOTP {
			// Only an account with TOTP on has codes: the others cost
			// no second read.
			var err error
			if left, err = d.Accounts.RecoveryCodesLeft(r.Context(), u); err != nil {
				d.writeError(w, r, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, userBody{ID: u.ID, Username: u.Username, Role: u.Role, CreatedAt: u.CreatedAt,
			TwoFactor: &twoFactorStatus{TOTP: u.TOTP, RecoveryCodesLeft: left, Passkeys: u.Passkeys, Required: d.Accounts.PolicyRequires2FA(u)}})
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
// to an enabled user and carry the user's current token version. A user
// the second-factor policy requires to enrol first is refused with
// account.ErrEnrolRequired (see authenticateEnrolling).
func (d *Deps) authenticate(next authedHandler) http.Handler {
	return d.authenticateWith(true, next)
}

// authenticateEnrolling is authenticate for the routes a user who must
// set up a second factor may still use: to see their account, sign out,
// re-authenticate and set one up.
func (d *Deps) authenticateEnrolling(next authedHandler) http.Handler {
	return d.authenticateWith(false, next)
}

func (d *Deps) authenticateWith(gated bool, next authedHandler) http.Handler {
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
		if gated && d.Accounts.MustEnrol(who.user) {
			d.writeError(w, r, account.ErrEnrolRequired)
			return
		}
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
	revoked, err := d.Revocations.TokenRevoked(ctx, claims.TokenID)
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
