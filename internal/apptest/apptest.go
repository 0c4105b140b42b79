// Package apptest starts the real application (app.Build, as serve does,
// over a fresh database: SQLite by default, PostgreSQL or MongoDB as Stores lists)
// behind a real HTTP listener, for end-to-end tests of the API and the
// website, and holds what those tests share: the HTTP client (Client),
// the headless Chromium harness (Browser), the log buffer and FreeAddr.
//
// It is a normal package, so that the tests of every package can import
// it, but only tests may: TestImportedByTestsOnly fails if a program's
// code does, which would build chromedp and the test stores into it.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/redis"
)

// Secret is the JWT secret of test servers: random, as production
// requires, and fixed for the test binary so tests can sign tokens with it
// and search logs for it.
var Secret = NewSecret()

// NewSecret returns a fresh secret such as `openssl rand -base64 48`
// prints, one that production accepts.
func NewSecret() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.StdEncoding.EncodeToString(b)
}

// Password passes every registration rule.
const Password = "correct horse battery staple"

// CheapHash keeps argon2id's code path but not its cost, so suites run in
// seconds.
var CheapHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// CountingHasher is a Hasher at CheapHash that counts the argon2id runs
// (hashes made and verifications, dummy or not) it does, so a test can
// see what a request cost without timing it.
type CountingHasher struct {
	*auth.Hasher
	runs atomic.Int64
}

// NewCountingHasher returns a CountingHasher that has run nothing.
func NewCountingHasher() *CountingHasher {
	return &CountingHasher{Hasher: auth.NewHasher(CheapHash, 0, 0)}
}

// Hash counts one run.
func (h *CountingHasher) Hash(ctx context.Context, password string) (string, error) {
	h.runs.Add(1)
	return h.Hasher.Hash(ctx, password)
}

// Verify counts one run.
func (h *CountingHasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	h.runs.Add(1)
	return h.Hasher.Verify(ctx, password, encoded)
}

// VerifyDummy counts one run.
func (h *CountingHasher) VerifyDummy(ctx context.Context, password string) error {
	h.runs.Add(1)
	return h.Hasher.VerifyDummy(ctx, password)
}

// Runs returns the runs counted since the last call, and starts again
// from zero.
func (h *CountingHasher) Runs() int64 { return h.runs.Swap(0) }

// Server is the application under test.
type Server struct {
	*httptest.Server
	Store  blog.Store
	Redis  *redis.Client // nil unless PALISADE_REDIS_URL is in the environment
	Logs   *LogBuffer
	Config *config.Config
	// SetupURL is the instance's setup link, as serve prints it, or ""
	// when the store had an admin at start-up.
	SetupURL string

	hasher account.Hasher
	sw     *switchHandler
}

// Port, in the PALISADE_BASE_URL given to Start, stands for the port the
// test server listens on: "http://localhost:" + Port is the server's own
// origin under a domain name, where browsers allow passkeys.
const Port = "{port}"

// Start runs the app with env on top of test defaults (a generous rate
// limit, so only the tests about it meet it; open registration, so suites
// register their users without invites; no second factor required, so
// their admins need no authenticator app: tests of that policy set
// PALISADE_REQUIRE_2FA) and CheapHash.
func Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	return StartWithHasher(t, env, auth.NewHasher(CheapHash, 0, 0))
}

// StartWithHasher is Start with a given hasher (a *CountingHasher, say);
// nil means production argon2id parameters.
func StartWithHasher(t testing.TB, env map[string]string, hasher account.Hasher) *Server {
	t.Helper()
	vars := map[string]string{
		"PALISADE_DATA_DIR":     t.TempDir(),
		"PALISADE_JWT_SECRET":   Secret,
		"PALISADE_RATE_LIMIT":   "10000/15m",
		"PALISADE_REGISTRATION": "open",
		"PALISADE_REQUIRE_2FA":  "none",
	}
	for k, v := range env {
		vars[k] = v
	}
	// The listener comes first when the base URL names its port: a
	// browser test of passkeys needs the server at http://localhost:PORT,
	// a domain name (browsers refuse WebAuthn for an IP address) with the
	// port it really listens on.
	var ln net.Listener
	if base := vars["PALISADE_BASE_URL"]; strings.Contains(base, Port) {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		vars["PALISADE_BASE_URL"] = strings.ReplaceAll(base, Port, port)
	}
	cfg, err := config.Load("serve", nil, func(k string) string { return vars[k] }, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.EnsureDevSecrets(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Logs: &LogBuffer{}, Config: cfg, hasher: hasher, sw: &switchHandler{}}
	a, err := app.Build(context.Background(), cfg, s.options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() }) // the test is over; a failure to close changes nothing it checked
	s.Store, s.Redis, s.SetupURL = a.Store, a.Redis, a.SetupURL
	s.sw.h.Store(&a.Handler)
	s.Server = httptest.NewUnstartedServer(s.sw)
	if ln != nil {
		_ = s.Listener.Close() // never used: the one made above replaces it
		s.Listener = ln
	}
	if cfg.Production() {
		// Production answers only for PALISADE_BASE_URL's host, and the
		// test server listens on 127.0.0.1: requests addressed to the
		// listener are handed on as if to the base URL's host, as a reverse
		// proxy would. Any other Host header arrives unchanged.
		s.sw.listenHost, s.sw.baseHost = s.Listener.Addr().String(), cfg.BaseURL.Host
	}
	s.Server.Start()
	t.Cleanup(s.Server.Close)
	return s
}

// SwapStore rebuilds the application on another store (one that fails,
// say), keeping the configuration and the log.
func (s *Server) SwapStore(t testing.TB, store blog.Store) {
	t.Helper()
	h, err := app.Wire(s.Config, store, s.Redis, s.options())
	if err != nil {
		t.Fatal(err)
	}
	s.sw.h.Store(&h)
}

// options are the test server's: every log line in Logs, its hasher, and
// feeds built afresh on every request, so that a test sees its change at
// once (internal/web tests the feeds' reuse).
func (s *Server) options() app.Options {
	return app.Options{Log: logging.New(s.Logs, slog.LevelDebug, "json"), Hasher: s.hasher, FeedMaxAge: -1}
}

// switchHandler lets a test replace the application between requests
// without a data race.
type switchHandler struct {
	h                    atomic.Pointer[http.Handler]
	listenHost, baseHost string // set before the server starts; see StartWithHasher
}

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.listenHost != "" && r.Host == s.listenHost {
		r.Host = s.baseHost
	}
	(*s.h.Load()).ServeHTTP(w, r)
}

// LogBuffer collects the server's log; safe for its goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// DisableOnly marks the user disabled directly in the SQLite database,
// without bumping the token version as blog.UserStore.DisableUser does, so
// a test can prove that the disabled flag alone shuts the account out.
// Skips under PostgreSQL or MongoDB, which tests select explicitly.
func (s *Server) DisableOnly(t testing.TB, userID string) {
	t.Helper()
	if s.Config.UsesPostgres() || s.Config.UsesMongo() {
		t.Skip("DisableOnly writes to the SQLite file")
	}
	db, err := sql.Open("sqlite", "file:"+s.Config.SQLitePath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	res, err := db.ExecContext(context.Background(), `UPDATE users SET disabled = 1 WHERE id = ?`, userID)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("disable %s: %d rows, %v", userID, n, err)
	}
}
