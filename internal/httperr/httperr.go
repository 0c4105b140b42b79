// Package httperr decides what an HTTP client is told about an error: the
// status, a message safe to show, and when to retry. It is the one table
// from domain errors to HTTP; the JSON API and the website each render its
// answer in their own shape, so an error gets the same status from both.
package httperr

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
)

// Answer is what a client is told about an error.
type Answer struct {
	// Status is the HTTP status code.
	Status int
	// Message is safe to show: a *blog.Error's own message, or a fixed
	// text. For a 500 it is a generic "Internal error."; the detail is for
	// the caller to log with the request ID.
	Message string
	// RetryAfter is the Retry-After in whole seconds, at least 1; zero
	// means the header is not sent.
	RetryAfter int
}

// NoSpaceRetryAfter is the Retry-After of a 507: freeing disk space takes
// an operator, so clients should not hammer a full server.
const NoSpaceRetryAfter = 60

// statusOf maps each domain error code to its one HTTP status.
func statusOf(code string) int {
	switch code {
	case blog.EINVALID:
		return http.StatusBadRequest
	case blog.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case blog.EFORBIDDEN:
		return http.StatusForbidden
	case blog.ENOTFOUND:
		return http.StatusNotFound
	case blog.ECONFLICT:
		return http.StatusConflict
	case blog.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case blog.ENOSPACE:
		return http.StatusInsufficientStorage
	default: // EINTERNAL, and a code this table does not know yet
		return http.StatusInternalServerError
	}
}

// From answers err. A field validation error is a 400 (the caller lists
// its fields), a throttled sign-in a 429, a busy password hasher a 503,
// a *blog.Error the status of its code; anything else is a 500 whose
// detail the caller logs and never shows. err must not be nil.
func From(err error) Answer {
	var (
		verr      *blog.ValidationError
		throttled *account.ThrottledError
	)
	switch {
	case errors.As(err, &verr):
		return Answer{Status: http.StatusBadRequest, Message: "Invalid input"}
	case errors.As(err, &throttled):
		return Answer{Status: http.StatusTooManyRequests, Message: "Too many requests, please try again later.",
			RetryAfter: RetryAfter(throttled.RetryAfter)}
	case errors.Is(err, auth.ErrBusy):
		// A queue of hashes drains in well under a second.
		return Answer{Status: http.StatusServiceUnavailable, Message: "The server is busy, please retry", RetryAfter: 1}
	}
	code := blog.ErrorCode(err)
	a := Answer{Status: statusOf(code), Message: blog.ErrorMessage(err)}
	switch a.Status {
	case http.StatusInternalServerError:
		// Not even an EINTERNAL *blog.Error's own message: only the
		// codes above carry text meant for clients.
		a.Message = "Internal error."
	case http.StatusServiceUnavailable:
		// A dependency is down: retry soon, the client's retry is what
		// finds it back.
		a.RetryAfter = 1
	case http.StatusInsufficientStorage:
		a.RetryAfter = NoSpaceRetryAfter
	}
	return a
}

// SetRetryAfter sets the Retry-After header when a has one.
func (a Answer) SetRetryAfter(h http.Header) {
	if a.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.RetryAfter))
	}
}

// RetryAfter is d in whole seconds for a Retry-After header: rounded up,
// and at least 1, as httpsec's rate limit does, so a client is never told
// it may retry before it really may.
func RetryAfter(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
