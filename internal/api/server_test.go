package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/server"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// testSecret is long enough for production rules; tests grep logs for it.
const testSecret = "test-jwt-secret-that-is-at-least-32-bytes-long"

// testPassword passes every registration rule.
const testPassword = "correct horse battery staple"

// cheapHash keeps argon2id's code path but not its cost, so the suite runs
// in seconds. One test uses auth.DefaultParams.
var cheapHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testServer is the real application (server.App over SQLite in a temp
// dir) behind a real HTTP listener.
type testServer struct {
	*httptest.Server
	store  blog.Store
	logs   *syncBuffer
	cfg    *config.Config
	hasher *auth.Hasher
	sw     *switchHandler
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newServer starts the app with the given environment on top of test
// defaults (a generous rate limit, so only the tests about it meet it).
func newServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	return startServer(t, env, auth.NewHasher(cheapHash, 0, 0))
}

// newServerWithDefaultHasher runs the production argon2id parameters.
func newServerWithDefaultHasher(t testing.TB) *testServer {
	t.Helper()
	return startServer(t, nil, nil)
}

func startServer(t testing.TB, env map[string]string, hasher *auth.Hasher) *testServer {
	t.Helper()
	vars := map[string]string{
		"PALISADE_DATA_DIR":   t.TempDir(),
		"PALISADE_JWT_SECRET": testSecret,
		"PALISADE_RATE_LIMIT": "10000/15m",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load("serve", nil, func(k string) string { return vars[k] }, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureDevSecrets(); err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(cfg.DataDir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	logs := &syncBuffer{}
	h, err := server.App(cfg, store, logging.New(logs, slog.LevelDebug, "json"), hasher)
	if err != nil {
		t.Fatal(err)
	}
	sw := &switchHandler{}
	sw.h.Store(&h)
	ts := httptest.NewServer(sw)
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, store: store, logs: logs, cfg: cfg, hasher: hasher, sw: sw}
}

// switchHandler lets a test replace the application between requests
// without a data race.
type switchHandler struct{ h atomic.Pointer[http.Handler] }

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// swapStore rebuilds the application on another store (one that fails, for
// instance), keeping the configuration and the log.
func (ts *testServer) swapStore(t testing.TB, store blog.Store) {
	t.Helper()
	h, err := server.App(ts.cfg, store, logging.New(ts.logs, slog.LevelDebug, "json"), ts.hasher)
	if err != nil {
		t.Fatal(err)
	}
	ts.sw.h.Store(&h)
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response body %q is not JSON: %v", r.body, err)
	}
}

// errorText returns the "error" field of a JSON error body.
func (r *response) errorText(t testing.TB) string {
	t.Helper()
	var b struct {
		Error string `json:"error"`
	}
	r.json(t, &b)
	return b.Error
}

// request is one request to send; body is JSON-encoded unless it is a
// string (sent as is) or nil.
type request struct {
	method, path, token string
	body                any
	header              map[string]string
}

// encodeBody returns the request's body bytes: a string as is, anything
// else as JSON, nil for none.
func (req request) encodeBody(t testing.TB) []byte {
	t.Helper()
	switch b := req.body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
}

// httpRequest builds the request to send, with body as its body.
func (ts *testServer) httpRequest(t testing.TB, req request, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(req.method, ts.URL+req.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		if k == "Host" {
			r.Host = v // net/http sends r.Host, not a Host header
			continue
		}
		r.Header.Set(k, v)
	}
	return r
}

func (ts *testServer) send(t testing.TB, req request) *response {
	t.Helper()
	resp, err := ts.Client().Do(ts.httpRequest(t, req, req.encodeBody(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (ts *testServer) get(t testing.TB, path, token string) *response {
	t.Helper()
	return ts.send(t, request{method: http.MethodGet, path: path, token: token})
}

func (ts *testServer) post(t testing.TB, path, token string, body any) *response {
	t.Helper()
	return ts.send(t, request{method: http.MethodPost, path: path, token: token, body: body})
}

func wantStatus(t testing.TB, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}

// register creates an account and returns its ID.
func (ts *testServer) register(t testing.TB, username string) string {
	t.Helper()
	r := ts.post(t, "/auth/register", "", map[string]string{"username": username, "password": testPassword})
	wantStatus(t, r, http.StatusCreated)
	var b struct{ User struct{ ID string } }
	r.json(t, &b)
	return b.User.ID
}

// login signs in and returns the bearer token.
func (ts *testServer) login(t testing.TB, username string) string {
	t.Helper()
	r := ts.post(t, "/auth/login", "", map[string]string{"username": username, "password": testPassword})
	wantStatus(t, r, http.StatusOK)
	var b struct{ Token string }
	r.json(t, &b)
	if b.Token == "" {
		t.Fatal("login returned no token")
	}
	return b.Token
}

// signUp registers and signs in.
func (ts *testServer) signUp(t testing.TB, username string) string {
	t.Helper()
	ts.register(t, username)
	return ts.login(t, username)
}

// createPost publishes a post and returns it.
func (ts *testServer) createPost(t testing.TB, token, title, content string) blog.Post {
	t.Helper()
	r := ts.post(t, "/posts", token, map[string]string{"title": title, "content": content})
	wantStatus(t, r, http.StatusCreated)
	var b struct {
		Message string
		Post    blog.Post
	}
	r.json(t, &b)
	if b.Message != "Post created" {
		t.Fatalf("message = %q", b.Message)
	}
	return b.Post
}
