package httperr_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/httperr"
)

func TestFrom(t *testing.T) {
	driver := errors.New(`pq: relation "users" does not exist at db.internal:5432`)
	tests := []struct {
		name string
		err  error
		want httperr.Answer
	}{
		{"Invalid", blog.Errorf(blog.EINVALID, "Invalid cursor"), httperr.Answer{Status: 400, Message: "Invalid cursor"}},
		{"ValidationFields", blog.InvalidContent("Content is nested too deeply"), httperr.Answer{Status: 400, Message: "Invalid input"}},
		{"Unauthorized", account.ErrBadCredentials, httperr.Answer{Status: 401, Message: "Invalid username or password"}},
		{"Forbidden", blog.Errorf(blog.EFORBIDDEN, "You may only change your own posts"), httperr.Answer{Status: 403, Message: "You may only change your own posts"}},
		{"NotFound", blog.Errorf(blog.ENOTFOUND, "Post not found"), httperr.Answer{Status: 404, Message: "Post not found"}},
		{"Conflict", blog.ErrUsernameTaken, httperr.Answer{Status: 409, Message: blog.ErrUsernameTaken.Message}},
		{"Throttled", &account.ThrottledError{RetryAfter: 1200 * time.Millisecond}, httperr.Answer{Status: 429, Message: "Too many requests, please try again later.", RetryAfter: 2}},
		{"Unavailable", blog.Errorf(blog.EUNAVAILABLE, "The database is unavailable, please retry"), httperr.Answer{Status: 503, Message: "The database is unavailable, please retry", RetryAfter: 1}},
		{"Busy", auth.ErrBusy, httperr.Answer{Status: 503, Message: "The server is busy, please retry", RetryAfter: 1}},
		{"NoSpace", blog.Errorf(blog.ENOSPACE, "Storage is full"), httperr.Answer{Status: 507, Message: "Storage is full", RetryAfter: 60}},
		{"Wrapped", fmt.Errorf("update post: %w", blog.Errorf(blog.ENOTFOUND, "Post not found")), httperr.Answer{Status: 404, Message: "Post not found"}},
		// The detail of anything else is never shown, nor is the
		// message of a domain error marked internal.
		{"Unknown", driver, httperr.Answer{Status: 500, Message: "Internal error."}},
		{"WrappedDriverError", fmt.Errorf("create post: %w", driver), httperr.Answer{Status: 500, Message: "Internal error."}},
		{"Internal", blog.Errorf(blog.EINTERNAL, "secret detail"), httperr.Answer{Status: 500, Message: "Internal error."}},
		{"UnknownCode", blog.Errorf("teapot", "secret detail"), httperr.Answer{Status: 500, Message: "Internal error."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httperr.From(tt.err); got != tt.want {
				t.Errorf("From(%v) = %+v, want %+v", tt.err, got, tt.want)
			}
		})
	}
}

// Retry-After rounds up, as the rate limit's does: a client told to come
// back early would only be refused again.
func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]int{
		-time.Second:                 1,
		0:                            1,
		time.Nanosecond:              1,
		time.Second:                  1,
		time.Second + 1:              2,
		1200 * time.Millisecond:      2,
		2 * time.Second:              2,
		14*time.Minute + time.Second: 841,
	} {
		if got := httperr.RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestSetRetryAfter(t *testing.T) {
	h := http.Header{}
	httperr.Answer{Status: 404}.SetRetryAfter(h)
	if _, ok := h["Retry-After"]; ok {
		t.Fatalf("a 404 got Retry-After %q", h.Get("Retry-After"))
	}
	w := httptest.NewRecorder()
	httperr.From(&account.ThrottledError{RetryAfter: 1200 * time.Millisecond}).SetRetryAfter(w.Header())
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2", got)
	}
}
