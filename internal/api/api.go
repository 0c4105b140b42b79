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

	encoded *encodedPosts // set by Routes
}

// Routes registers every API route on mux. Keeping them in one list makes
// the API's surface (and which routes need a token) reviewable at a glance.
func Routes(mux *http.ServeMux, d *Deps) {
	authed := d.authenticate
	d.encoded = newEncodedPosts(encodedPostsBudget)

	mux.Handle("POST /auth/register", d.handleRegister())
	mux.Handle("POST /auth/login", d.handleLogin())
	mux.Handle("POST /auth/logout", authed(d.handleLogout()))
	mux.Handle("GET /users/me", authed(d.handleMe()))

	mux.Handle("GET /posts", d.handleListPosts())
	mux.Handle("GET /posts/{id}", d.handleGetPost())
	mux.Handle("POST /posts", authed(d.handleCreatePost()))
	mux.Handle("PATCH /posts/{id}", authed(d.handleUpdatePost()))
	mux.Handle("DELETE /posts/{id}", authed(d.handleDeletePost()))

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", d.handleReadyz())
	mux.Handle("GET /openapi.json", handleOpenAPI())
}
