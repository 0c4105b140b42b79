package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// view is what every page template receives.
type view struct {
	User      any // *blog.User or nil; any so that {{if .User}} is false for a nil pointer
	Site      blog.Settings
	RequestID string
	Data      any // the page's own data
	// OpenRegistration is true when anyone may register
	// (PALISADE_REGISTRATION=open): only then do pages link to /register.
	// Under the other policies the link would lead to a refusal; an
	// invite link still opens the form.
	OpenRegistration bool
	// Passkey is true on a page that offers a passkey action: it loads
	// passkey.js, and its CSP (PasskeyPageCSP) allows that one script.
	Passkey bool
	// CodeStep is true when the second step of a sign-in asks for a code
	// (the account has an authenticator app).
	CodeStep bool

	csrf func() string
}

// CSRF returns a masked CSRF token for the page's forms. It is a method so
// that the session (and its cookie) is created only for pages that have a
// form, not for every anonymous reader.
func (v *view) CSRF() string { return v.csrf() }

// render writes a page. Failures are logged; the status may already be
// sent, so nothing else can be done.
func (d *Deps) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	v := &view{
		RequestID:        httpsec.RequestIDFrom(r.Context()),
		Site:             d.siteSettings(r.Context()),
		Data:             data,
		OpenRegistration: d.registrationOpen(),
		Passkey:          d.passkeyPage(r, page),
		csrf: func() string {
			// A page with a token is one visitor's: no cache may keep it
			// (the page is still being rendered, so headers can change).
			w.Header().Set("Cache-Control", "no-store")
			return httpsec.MaskCSRFToken(d.csrfSecret(w, r))
		},
	}
	if u := currentUser(r); u != nil {
		v.User = u
	}
	if page == "login-2fa" {
		// Without passkeys here, the code form is all there is.
		v.CodeStep = d.secondStepOffers(r, "totp") || !v.Passkey
	}
	if err := d.pages.render(w, status, page, v); err != nil {
		d.renderFailed(r, page, err)
	}
}

// registrationOpen reports whether anyone may register.
func (d *Deps) registrationOpen() bool {
	return d.Accounts != nil && d.Accounts.RegistrationPolicy() == account.PolicyOpen
}

// renderFailed logs a page that could not be rendered or sent. A client
// that hung up mid-page is logged, but not as our error.
func (d *Deps) renderFailed(r *http.Request, page string, err error) {
	level := slog.LevelError
	if errors.Is(err, errWrite) {
		level = slog.LevelDebug
	}
	d.Log.Log(r.Context(), level, "render page", "page", page, "error", err, "requestId", httpsec.RequestIDFrom(r.Context()))
}

// errorData is the error page's content.
type errorData struct{ Title, Message string }

// WriteError renders the error page with status and a message that is
// safe to show. Site.WriteError lends it to the server for pages it
// answers itself (rate limited, busy, panics) when the client wants HTML.
func (d *Deps) WriteError(w http.ResponseWriter, r *http.Request, status int, message string) {
	d.render(w, r, status, "error", errorData{Title: http.StatusText(status), Message: message})
}

// internalError logs err under the request ID and shows a page with only
// that ID.
func (d *Deps) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if logging.ClientGone(r, err) {
		w.WriteHeader(logging.StatusClientClosed)
		return
	}
	d.Log.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("requestId", httpsec.RequestIDFrom(r.Context())), slog.String("path", r.URL.Path), slog.Any("error", err))
	d.WriteError(w, r, http.StatusInternalServerError, "Something went wrong on our side. If it keeps happening, tell the site's operator the request ID below.")
}
