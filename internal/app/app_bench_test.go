package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/markdown"
)

// BenchmarkApp is the whole handler as `palisade serve` builds it
// (production settings, SQLite, JSON access log) serving requests in
// process, without sockets: what each route costs beyond net/http itself.
// Profile it with -cpuprofile to see where a request's time goes.
func BenchmarkApp(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	vars := map[string]string{
		"PALISADE_ENV":            "production",
		"PALISADE_BASE_URL":       "https://bench.example",
		"PALISADE_DATA_DIR":       dir,
		"PALISADE_JWT_SECRET":     apptest.NewSecret(),
		"PALISADE_SESSION_SECRET": apptest.NewSecret(),
		"PALISADE_RATE_LIMIT":     "1000000000/15m",
	}
	cfg, err := config.Load("serve", nil, func(k string) string { return vars[k] }, "", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.Build(ctx, cfg, app.Options{Log: logging.New(io.Discard, slog.LevelInfo, "json")})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	store, h := a.Store, a.Handler

	// 100 posts of about 1.5 KB of Markdown, like the load test's.
	u, err := store.CreateUser(ctx, blog.NewUser{Username: "bench", PasswordHash: "x", Role: blog.RoleAuthor})
	if err != nil {
		b.Fatal(err)
	}
	md := markdown.New()
	content := strings.TrimSpace(strings.Repeat("Some *Markdown* with a [link](https://example.com) and `code`. ", 25))
	html, err := md.Render(content)
	if err != nil {
		b.Fatal(err)
	}
	var last blog.Post
	for i := range 100 {
		if last, err = store.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: fmt.Sprint("Post number ", i), Content: content, ContentHTML: html}); err != nil {
			b.Fatal(err)
		}
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: cfg.JWTSecret, Issuer: cfg.BaseURL.String(), Audience: "palisade-api", TTL: cfg.JWTTTL})
	if err != nil {
		b.Fatal(err)
	}
	bearer, _, err := tokens.Issue(u.ID, u.TokenVersion)
	if err != nil {
		b.Fatal(err)
	}
	newPost := `{"title":"A benchmark post","content":"` + strings.Repeat("Some *Markdown* here. ", 60) + `"}`

	for _, bc := range []struct {
		name, method, target, body string
		bearer                     bool
		want                       int
	}{
		{"Healthz", http.MethodGet, "/healthz", "", false, http.StatusOK},
		{"ListPosts", http.MethodGet, "/posts", "", false, http.StatusOK},
		{"GetPost", http.MethodGet, "/posts/" + last.ID, "", false, http.StatusOK},
		{"Me", http.MethodGet, "/users/me", "", true, http.StatusOK},
		{"CreatePost", http.MethodPost, "/posts", newPost, true, http.StatusCreated},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var body io.Reader
				if bc.body != "" {
					body = strings.NewReader(bc.body)
				}
				req := httptest.NewRequest(bc.method, bc.target, body)
				req.Host = "bench.example" // production answers only for the base URL's host
				req.RemoteAddr = "203.0.113.7:1234"
				if bc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if bc.bearer {
					req.Header.Set("Authorization", "Bearer "+bearer)
				}
				w := &statusWriter{h: make(http.Header)}
				h.ServeHTTP(w, req)
				if w.status != bc.want {
					b.Fatalf("%s %s: status %d, want %d", bc.method, bc.target, w.status, bc.want)
				}
			}
		})
	}
}

// statusWriter keeps only the status of a response.
type statusWriter struct {
	h      http.Header
	status int
}

func (w *statusWriter) Header() http.Header { return w.h }
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
