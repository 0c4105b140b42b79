// Package api is Palisade's JSON API: the tutorial's blog routes, with
// bearer-token authentication only. No route reads a credential from a
// cookie or the query string, so a browser never sends one on its own and
// the API needs no CSRF token.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/markdown"
)

// Deps is everything the API's handlers use.
type Deps struct {
	Store       blog.Store
	Revocations blog.RevocationStore // the database's, or Redis's when instances share one
	Accounts    *account.Service
	Tokens      *auth.Tokens
	Markdown    *markdown.Renderer
	Log         *slog.Logger
	ClientIP    *httpsec.ClientIP
	BaseURL     *url.URL // for links; never taken from the Host header
	// Ready reports whether every dependency answers (for /readyz).
	Ready func(ctx context.Context) map[string]error
	// Metrics serves GET /metrics; nil unless PALISADE_METRICS=on.
	Metrics http.Handler
	// Next serves what no API route matches: the website, which shares
	// the API's URL space with paths of its own. Nil answers those
	// requests with the API's JSON 404 or 405.
	Next http.Handler

	encoded *encodedPosts // set by New
}

// New returns the API's handler. A request for an API path under another
// method gets a JSON 405 (a browser's goes on to d.Next, which shows it a
// page); any other request no route matches goes to d.Next.
func New(d Deps) http.Handler {
	d.encoded = newEncodedPosts(encodedPostsBudget)
	mux := http.NewServeMux()
	d.routes(mux)
	mux.Handle("/", d.unrouted(mux))
	return mux
}

// routes registers every API route on mux. Keeping them in one list makes
// the API's surface (and which routes need a token) reviewable at a glance.
func (d *Deps) routes(mux *http.ServeMux) {
	authed := d.authenticate
	// What a user the second-factor policy requires to enrol may still
	// do: see their account, sign out, re-authenticate, set one up (an
	// authenticator app or a passkey).
	enrolling := d.authenticateEnrolling
	// Changing factors takes a token from the last ten minutes.
	recent := d.recent

	mux.Handle("POST /auth/register", d.handleRegister())
	mux.Handle("POST /auth/login", d.handleLogin())
	mux.Handle("POST /auth/login/2fa", d.handleLoginSecondFactor())
	mux.Handle("POST /auth/passkey/begin", d.handleBeginPasskeySignIn())
	mux.Handle("POST /auth/passkey/finish", d.handleFinishPasskeySignIn())
	mux.Handle("POST /auth/reauth", enrolling(d.handleReauth()))
	mux.Handle("POST /auth/reauth/passkey/begin", enrolling(d.handleBeginPasskeyReauth()))
	mux.Handle("POST /auth/logout", enrolling(d.handleLogout()))
	mux.Handle("GET /users/me", enrolling(d.handleMe()))
	mux.Handle("GET /users/me/posts", authed(d.handleMyPosts()))
	mux.Handle("POST /users/me/password", authed(d.handleChangePassword()))
	mux.Handle("POST /users/me/2fa/totp", enrolling(recent(d.handleBeginTOTP())))
	mux.Handle("POST /users/me/2fa/totp/confirm", enrolling(recent(d.handleConfirmTOTP())))
	mux.Handle("DELETE /users/me/2fa/totp", enrolling(recent(d.handleDisableTOTP())))
	mux.Handle("POST /users/me/2fa/recovery-codes", enrolling(recent(d.handleNewRecoveryCodes())))
	// A passkey satisfies the policy too, so enrolling may add one.
	mux.Handle("GET /users/me/passkeys", enrolling(d.handleListPasskeys()))
	mux.Handle("POST /users/me/passkeys/begin", enrolling(recent(d.handleBeginPasskeyRegistration())))
	mux.Handle("POST /users/me/passkeys/finish", enrolling(recent(d.handleFinishPasskeyRegistration())))
	mux.Handle("PATCH /users/me/passkeys/{id}", enrolling(d.handleRenamePasskey()))
	mux.Handle("DELETE /users/me/passkeys/{id}", enrolling(recent(d.handleRemovePasskey())))

	mux.Handle("GET /posts", d.handleListPosts())
	mux.Handle("GET /posts/{id}", d.handleGetPost())
	mux.Handle("POST /posts", authed(d.handleCreatePost()))
	mux.Handle("PATCH /posts/{id}", authed(d.handleUpdatePost()))
	mux.Handle("DELETE /posts/{id}", authed(d.handleDeletePost()))

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", d.handleReadyz())
	mux.Handle("GET /openapi.json", handleOpenAPI())
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics)
	}
}

// unrouted handles what no route of mux matches. It runs only on misses,
// so matched routes pay nothing for it.
func (d *Deps) unrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A browser is handed on at once: the website answers it with a
		// page whatever the method.
		if d.Next != nil && httpsec.Accepts(r, "text/html") {
			d.Next.ServeHTTP(w, r)
			return
		}
		allow := httpsec.AllowedMethods(mux, r)
		if d.Next == nil || len(allow) > 0 {
			WriteNotFound(w, r, allow)
			return
		}
		d.Next.ServeHTTP(w, r)
	})
}
