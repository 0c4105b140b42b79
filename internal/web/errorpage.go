package web

// How the site answers an error: the form again, or the error page.

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/httperr"
	"github.com/palisade-blog/palisade/internal/logging"
)

// formError shows the form again with what went wrong: 400 for invalid
// fields, 401 for a failed sign-in, 409 for a taken username, 429 when
// sign-in is throttled, 503 when the server is busy. Anything else gets
// the error page.
func (d *Deps) formError(w http.ResponseWriter, r *http.Request, page string, form formData, err error) {
	var verr *blog.ValidationError
	a := httperr.From(err)
	switch {
	case errors.As(err, &verr):
		for _, f := range verr.Fields {
			form.Errors = append(form.Errors, f.Msg)
		}
	case a.Status == http.StatusTooManyRequests:
		minutes := (a.RetryAfter + 59) / 60
		form.Errors = []string{fmt.Sprintf("Too many sign-in attempts. Please try again in %d minute(s).", minutes)}
	case a.Status == http.StatusServiceUnavailable:
		form.Errors = []string{"The server is busy. Please try again in a moment."}
	case a.Status == http.StatusUnauthorized || a.Status == http.StatusConflict:
		form.Errors = []string{a.Message}
	default:
		d.storeError(w, r, err)
		return
	}
	a.SetRetryAfter(w.Header())
	d.render(w, r, a.Status, page, form)
}

// storeError shows the error page for err with the status and Retry-After
// httperr gives it, in the site's own words where it has them (a 404, 403,
// 503 or 507) and in the error's safe message otherwise. An internal error
// is logged and shown only as its request ID.
func (d *Deps) storeError(w http.ResponseWriter, r *http.Request, err error) {
	a := httperr.From(err)
	switch a.Status {
	case http.StatusInternalServerError:
		d.internalError(w, r, err)
		return
	case http.StatusForbidden:
		d.forbidden(w, r)
		return
	case http.StatusInsufficientStorage:
		// The operator hears of it once a minute, not once per request.
		logging.NoSpace(r.Context(), d.Log, httpsec.RequestIDFrom(r.Context()), err)
	}
	if blog.ErrorCode(err) == blog.EUNAVAILABLE {
		// A dependency is down: the operator needs the cause. (A busy
		// hasher, also a 503, is this instance's own load, not news.)
		d.Log.WarnContext(r.Context(), "dependency unavailable", "requestId", httpsec.RequestIDFrom(r.Context()), "error", err)
	}
	a.SetRetryAfter(w.Header())
	d.WriteError(w, r, a.Status, pageMessage(a))
}

// pageMessage is what the error page says for a: the site's own words for
// the errors a visitor meets, the error's safe message for the rest.
func pageMessage(a httperr.Answer) string {
	switch a.Status {
	case http.StatusNotFound:
		return "There is no such post. It may have been deleted."
	case http.StatusServiceUnavailable:
		return "The site is briefly unavailable. Please try again in a moment."
	case http.StatusInsufficientStorage:
		return "The site cannot save anything right now: its storage is full. Nothing was changed. Please try again later."
	}
	return a.Message
}

// noSpace answers 507 when a write failed because the disk is full
// (nothing was saved, and the visitor should come back later), as
// storeError does for any error with that code.
func (d *Deps) noSpace(w http.ResponseWriter, r *http.Request, err error) {
	d.storeError(w, r, err)
}

func (d *Deps) forbidden(w http.ResponseWriter, r *http.Request) {
	logging.Security(r.Context(), d.Log, "forbidden", slog.String("method", r.Method), slog.String("path", r.URL.Path))
	d.WriteError(w, r, http.StatusForbidden, "You may only change your own posts.")
}
