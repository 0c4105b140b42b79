package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
)

// newPageDeps is the website with nothing behind it but sessions in
// memory: enough to render the error page and a form.
func newPageDeps(t *testing.T) *Deps {
	t.Helper()
	site, err := New(Deps{
		SessionStore: &memSessions{m: map[string][]byte{}},
		NotFound:     func(w http.ResponseWriter, r *http.Request, allow []string) { http.NotFound(w, r) },
		Log:          slog.New(slog.DiscardHandler),
		BaseURL:      &url.URL{Scheme: "http", Host: "127.0.0.1"},
		CSRFKey:      []byte(strings.Repeat("k", 32)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return site.d
}

// memSessions is a blog.SessionStore in a map, for tests that need no
// database.
type memSessions struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSessions) FindSession(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	return b, ok, nil
}

func (s *memSessions) TakeSession(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	delete(s.m, key)
	return b, ok, nil
}

func (s *memSessions) SaveSession(_ context.Context, key string, data []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = data
	return nil
}

func (s *memSessions) DeleteSession(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memSessions) PruneSessions(context.Context, time.Time) error { return nil }

// serve runs h as the site would, with the session loaded.
func serve(d *Deps, h http.HandlerFunc) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	d.sessions.LoadAndSave(h).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/write", nil))
	return w
}

// TestErrorPageStatuses: each error gets the status and Retry-After the
// API gives it, on the error page, and never an internal detail.
func TestErrorPageStatuses(t *testing.T) {
	driver := errors.New(`connection to "db.internal:5432" refused`)
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
		says       string
	}{
		{"NotFound", blog.Errorf(blog.ENOTFOUND, "Post not found"), 404, "", "There is no such post."},
		{"Invalid", blog.Errorf(blog.EINVALID, "Text contains a NUL character"), 400, "", "Text contains a NUL character"},
		{"Unauthorized", account.ErrBadCredentials, 401, "", "Invalid username or password"},
		{"Forbidden", blog.Errorf(blog.EFORBIDDEN, "You may only change your own posts"), 403, "", "You may only change your own posts."},
		{"Conflict", blog.ErrUsernameTaken, 409, "", blog.ErrUsernameTaken.Message},
		{"Unavailable", blog.Errorf(blog.EUNAVAILABLE, "The database is unavailable"), 503, "1", "briefly unavailable"},
		{"Busy", auth.ErrBusy, 503, "1", "briefly unavailable"},
		{"NoSpace", blog.Errorf(blog.ENOSPACE, "Storage is full"), 507, "60", "storage is full"},
		{"Internal", fmt.Errorf("list posts: %w", driver), 500, "", "Something went wrong on our side."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newPageDeps(t)
			w := serve(d, func(w http.ResponseWriter, r *http.Request) { d.storeError(w, r, tt.err) })
			body := html.UnescapeString(w.Body.String())
			if w.Code != tt.status || w.Header().Get("Retry-After") != tt.retryAfter || !strings.Contains(body, tt.says) {
				t.Fatalf("status %d, Retry-After %q, want %d, %q, a page saying %q:\n%s",
					w.Code, w.Header().Get("Retry-After"), tt.status, tt.retryAfter, tt.says, body)
			}
			if !strings.Contains(w.Header().Get("Content-Type"), "text/html") || strings.Contains(body, "db.internal") {
				t.Fatalf("not the error page, or a detail leaked:\n%s", body)
			}
		})
	}
}

// TestThrottledSignInRetryAfterRoundsUp: 1.2 s left is Retry-After: 2, as
// the API and the rate limit say; 1 would send the visitor back too soon.
func TestThrottledSignInRetryAfterRoundsUp(t *testing.T) {
	d := newPageDeps(t)
	w := serve(d, func(w http.ResponseWriter, r *http.Request) {
		d.formError(w, r, "login", formData{Username: "alice"}, &account.ThrottledError{RetryAfter: 1200 * time.Millisecond})
	})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q, want 429, 2", w.Code, w.Header().Get("Retry-After"))
	}
	if !strings.Contains(w.Body.String(), "Please try again in 1 minute(s).") {
		t.Fatalf("the form does not say when to retry:\n%s", w.Body)
	}
}
