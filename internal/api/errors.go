package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/httperr"
	"github.com/palisade-blog/palisade/internal/logging"
)

// writeError answers with err: field errors in express-validator's shape,
// request errors with their own status, and everything else as httperr
// maps it (the one table from domain errors to HTTP), in the tutorial's
// error shape. An internal error is a bare 500 with the request ID, its
// detail going to the log only.
func (d *Deps) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verr *blog.ValidationError
		rerr *requestError
	)
	switch {
	case errors.As(err, &verr):
		writeJSON(w, http.StatusBadRequest, validationBody{Errors: verr.Fields})
		return
	case errors.As(err, &rerr):
		writeJSON(w, rerr.status, errorBody{Error: http.StatusText(rerr.status), Message: rerr.message})
		return
	}
	a := httperr.From(err)
	switch {
	case a.Status == http.StatusInternalServerError:
		d.writeInternal(w, r, err)
		return
	case blog.ErrorCode(err) == blog.EUNAVAILABLE:
		// A dependency is down: say so and when to retry; the cause is for
		// the operator. (A busy hasher is this instance's load, not news.)
		d.Log.LogAttrs(r.Context(), slog.LevelWarn, "dependency unavailable",
			slog.String("requestId", httpsec.RequestIDFrom(r.Context())), slog.String("path", r.URL.Path), slog.Any("error", err))
	case a.Status == http.StatusInsufficientStorage:
		// The disk is full: nothing was saved. Logged once a minute, not
		// once per request; readiness reports it meanwhile.
		logging.NoSpace(r.Context(), d.Log, httpsec.RequestIDFrom(r.Context()), err)
	}
	a.SetRetryAfter(w.Header())
	switch a.Status {
	case http.StatusTooManyRequests:
		WriteRateLimited(w, r)
	case http.StatusUnauthorized:
		// The tutorial's clients read the reason from "error":
		// {"error": "Authentication required"}.
		w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
		writeJSON(w, a.Status, errorBody{Error: a.Message})
	default:
		writeJSON(w, a.Status, errorBody{Error: http.StatusText(a.Status), Message: a.Message})
	}
}

// writeInternal logs err and answers a generic 500 that names only the
// request ID, so an operator can find the log line and an attacker learns
// nothing.
func (d *Deps) writeInternal(w http.ResponseWriter, r *http.Request, err error) {
	if logging.ClientGone(r, err) {
		w.WriteHeader(logging.StatusClientClosed)
		return
	}
	id := httpsec.RequestIDFrom(r.Context())
	d.Log.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("requestId", id), slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	WriteInternalError(w, r)
}

// WriteInternalError answers a bare 500 that names only the request ID.
// The caller has logged the cause.
func WriteInternalError(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Internal Server Error", RequestID: httpsec.RequestIDFrom(r.Context())})
}

// WriteRateLimited is the tutorial's 429 body; the rate-limit middleware has
// already set Retry-After and the RateLimit headers.
func WriteRateLimited(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "Too many requests, please try again later."})
}

// WriteBusy answers 503: the server is overloaded for a moment. The caller
// has set Retry-After.
func WriteBusy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "Service Unavailable", Message: "The server is busy, please retry"})
}

// WriteNotFound answers, in JSON, a request that no route matched: 405
// with Allow when its path has routes under other methods (allow, from
// httpsec.AllowedMethods), 404 otherwise.
func WriteNotFound(w http.ResponseWriter, r *http.Request, allow []string) {
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "Method Not Allowed", Message: "Allowed: " + strings.Join(allow, ", ")})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{Error: "Not Found", Message: "No such route"})
}
