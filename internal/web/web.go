// Package web is Palisade's website: server-rendered pages (html/template)
// for reading, writing and managing posts, with a server-side session
// behind an HttpOnly, SameSite=Strict cookie and CSRF protection on every
// form. It needs no JavaScript, and its Content-Security-Policy allows none.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/markdown"
)

// MaxFormBytes bounds a form body: a 100,000-character post in 4-byte
// characters, URL-encoded, stays well under it.
const MaxFormBytes = 2 << 20

// Deps is everything the website's handlers use.
type Deps struct {
	Store    blog.Store
	Accounts *account.Service
	Markdown *markdown.Renderer
	Sessions *scs.SessionManager
	Log      *slog.Logger
	ClientIP *httpsec.ClientIP
	BaseURL  *url.URL
	// CSRFKey signs the CSRF cookie of visitors who are not signed in
	// (PALISADE_SESSION_SECRET).
	CSRFKey []byte
	// Production makes cookies Secure and __Host- prefixed.
	Production bool

	pages *renderer
	cop   *http.CrossOriginProtection
}

// New checks the dependencies and parses the templates, so a broken
// template stops start-up.
func New(d Deps) (*Deps, error) {
	if len(d.CSRFKey) < 32 {
		return nil, errors.New("web: the CSRF key (PALISADE_SESSION_SECRET) must be at least 32 bytes")
	}
	pages, err := newRenderer()
	if err != nil {
		return nil, err
	}
	d.pages = pages
	// A session store that fails (the database or Redis is down) is a
	// dependency outage: a retryable 503 page, the cause in the log.
	d.Sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		if blog.ErrorCode(err) == blog.ENOSPACE {
			// Saving the session (signing in) needs disk space too.
			d.noSpace(w, r, err)
			return
		}
		d.Log.WarnContext(r.Context(), "session store unavailable", "requestId", httpsec.RequestIDFrom(r.Context()), "error", err)
		w.Header().Set("Retry-After", "1")
		err = d.pages.render(w, http.StatusServiceUnavailable, "error", &view{
			RequestID: httpsec.RequestIDFrom(r.Context()),
			Data:      errorData{Title: "Service Unavailable", Message: "The site is briefly unavailable. Please try again in a moment."},
		})
		if err != nil {
			d.renderFailed(r, "error", err)
		}
	}
	d.cop = http.NewCrossOriginProtection()
	// Browsers send the public origin; behind a proxy that rewrites Host,
	// the Origin check must still accept it.
	if err := d.cop.AddTrustedOrigin(d.BaseURL.Scheme + "://" + d.BaseURL.Host); err != nil {
		return nil, err
	}
	return &d, nil
}

// Routes registers every page on mux. Each is wrapped by d.site: session,
// CSRF check on state-changing requests, current user.
func Routes(mux *http.ServeMux, d *Deps) {
	mux.Handle("GET /{$}", d.site(d.handleHome()))
	mux.Handle("GET /post/{id}", d.site(d.handlePost()))

	mux.Handle("GET /register", d.site(d.handleRegisterForm()))
	mux.Handle("POST /register", d.site(d.handleRegister()))
	mux.Handle("GET /login", d.site(d.handleLoginForm()))
	mux.Handle("POST /login", d.site(d.handleLogin()))
	mux.Handle("POST /logout", d.site(d.handleLogout()))

	mux.Handle("GET /write", d.site(d.signedIn(d.handleWriteForm())))
	mux.Handle("POST /write", d.site(d.signedIn(d.handleWrite())))
	mux.Handle("GET /post/{id}/edit", d.site(d.signedIn(d.handleEditForm())))
	mux.Handle("POST /post/{id}/edit", d.site(d.signedIn(d.handleEdit())))
	mux.Handle("GET /post/{id}/delete", d.site(d.signedIn(d.handleDeleteForm())))
	mux.Handle("POST /post/{id}/delete", d.site(d.signedIn(d.handleDelete())))

	mux.HandleFunc("GET /static/{name}", d.pages.serveAsset)
}

// site wraps a page, outermost first:
//
//  1. No-store: a response that sets a cookie is never cached.
//  2. Sessions: load the session and save it (and its cookie) after.
//  3. Current user: from the session, checked against the database so a
//     disabled account or a changed password ends every session at once.
//     (Before the CSRF check, so its error page shows who is signed in.)
//  4. CSRF: a state-changing request must come from our own origin
//     (http.CrossOriginProtection: Sec-Fetch-Site, Origin) and carry the
//     session's token, before any work is done for it.
func (d *Deps) site(h http.Handler) http.Handler {
	return noStore(d.Sessions.LoadAndSave(d.loadUser(d.checkCSRF(h))))
}

func (d *Deps) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if err := d.cop.Check(r); err != nil {
			d.csrfFailed(w, r, "cross-origin request")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				d.WriteError(w, r, http.StatusRequestEntityTooLarge, "That form was too large to accept.")
				return
			}
			d.WriteError(w, r, http.StatusBadRequest, "That form could not be read.")
			return
		}
		if !validUTF8(r.PostForm) {
			// As for JSON: bad bytes would be stored changed, and a password
			// would hash differently here than through the API.
			d.WriteError(w, r, http.StatusBadRequest, "That form contains text that is not valid UTF-8.")
			return
		}
		secret := d.expectedCSRFSecret(r)
		if !httpsec.CheckCSRFToken(secret, httpsec.CSRFTokenFrom(r)) {
			reason := "wrong token"
			if len(secret) == 0 {
				reason = "no session token"
			}
			d.csrfFailed(w, r, reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// csrfFailed answers 403 "Invalid CSRF token" (the tutorial's words) as a
// page, or as JSON to a client that asked for JSON.
func (d *Deps) csrfFailed(w http.ResponseWriter, r *http.Request, reason string) {
	logging.Security(r.Context(), d.Log, "csrf.rejected", slog.String("reason", reason), slog.String("path", r.URL.Path))
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"Invalid CSRF token"}` + "\n")) // fails only if the client went away
		return
	}
	d.WriteError(w, r, http.StatusForbidden, "Invalid CSRF token. Go back, reload the page and try again.")
}

type userKey struct{}

// loadUser puts the signed-in user in the request's context. A session
// whose user was disabled, or whose password changed since sign-in (the
// token version moved on), is destroyed.
func (d *Deps) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := d.Sessions.GetString(ctx, keyUserID)
		if id == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := d.Store.UserByID(ctx, id)
		if err != nil && blog.ErrorCode(err) != blog.ENOTFOUND {
			d.storeError(w, r, err) // 503 while the database is down
			return
		}
		if err != nil || u.Disabled || u.TokenVersion != d.Sessions.GetInt(ctx, keyVersion) {
			logging.Security(ctx, d.Log, "session.revoked", slog.String("user", id))
			if err := d.Sessions.Destroy(ctx); err != nil {
				d.internalError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		logging.SetUser(ctx, u.ID)
		// A page for a signed-in user must not be kept by a shared cache.
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, userKey{}, &u)))
	})
}

// currentUser is the signed-in user, or nil.
func currentUser(r *http.Request) *blog.User {
	u, _ := r.Context().Value(userKey{}).(*blog.User)
	return u
}

// signedIn sends visitors who are not signed in to the sign-in page.
func (d *Deps) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func validUTF8(form url.Values) bool {
	for k, vs := range form {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

// wantsJSON reports a client that asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return accept != "" && !containsToken(accept, "text/html") && containsToken(accept, "application/json")
}

func containsToken(header, token string) bool {
	for len(header) > 0 {
		var part string
		part, header, _ = strings.Cut(header, ",")
		if media, _, _ := strings.Cut(part, ";"); strings.TrimSpace(media) == token {
			return true
		}
	}
	return false
}
