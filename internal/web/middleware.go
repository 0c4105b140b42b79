package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

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
//  5. Enrolment: an account the policy requires to have a second factor,
//     and that has none, may use only the pages that set one up (after
//     the CSRF check, so a forged request is refused as forged).
func (d *Deps) site(h http.Handler) http.Handler {
	return noStore(d.sessions.LoadAndSave(d.loadUser(d.checkCSRF(d.enrolFirst(h)))))
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
		if !d.readForm(w, r) {
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

// wantsJSON reports a client that asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	return !httpsec.Accepts(r, "text/html") && httpsec.Accepts(r, "application/json")
}

type userKey struct{}

// loadUser puts the signed-in user in the request's context. A session
// whose user was disabled, or whose password changed since sign-in (the
// token version moved on), is destroyed.
func (d *Deps) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := d.sessions.GetString(ctx, keyUserID)
		if id == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := d.Store.UserByID(ctx, id)
		if err != nil && blog.ErrorCode(err) != blog.ENOTFOUND {
			d.storeError(w, r, err) // 503 while the database is down
			return
		}
		if err != nil || u.Disabled || u.TokenVersion != d.sessions.GetInt(ctx, keyVersion) {
			logging.Security(ctx, d.Log, "session.revoked", slog.String("user", id))
			if err := d.sessions.Destroy(ctx); err != nil {
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

// signedIn sends visitors who are not signed in to the sign-in page, which
// brings them back here afterwards.
func (d *Deps) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			http.Redirect(w, r, signInURL(r), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}
