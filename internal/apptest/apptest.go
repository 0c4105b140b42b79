// Package apptest starts the real application (server.App over a fresh
// database: SQLite by default, PostgreSQL or MongoDB as Stores lists)
// behind a real HTTP listener, for end-to-end tests of the API and the
// website. It is imported by tests only.
package apptest

import (
	"bytes"
	"context"
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
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/redis"
	"github.com/palisade-blog/palisade/internal/server"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// Secret is the JWT secret of test servers: long enough for production
// rules, and distinctive so tests can search logs for it.
const Secret = "test-jwt-secret-that-is-at-least-32-bytes-long"

// Password passes every registration rule.
const Password = "correct horse battery staple"

// CheapHash keeps argon2id's code path but not its cost, so suites run in
// seconds.
var CheapHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Server is the application under test.
type Server struct {
	*httptest.Server
	Store  blog.Store
	Redis  *redis.Client // nil unless PALISADE_REDIS_URL is in the environment
	Logs   *LogBuffer
	Config *config.Config

	hasher *auth.Hasher
	sw     *switchHandler
}

// Start runs the app with env on top of test defaults (a generous rate
// limit, so only the tests about it meet it) and CheapHash.
func Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	return StartWithHasher(t, env, auth.NewHasher(CheapHash, 0, 0))
}

// StartWithHasher is Start with a given hasher; nil means production
// argon2id parameters.
func StartWithHasher(t testing.TB, env map[string]string, hasher *auth.Hasher) *Server {
	t.Helper()
	vars := map[string]string{
		"PALISADE_DATA_DIR":   t.TempDir(),
		"PALISADE_JWT_SECRET": Secret,
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
	ctx := context.Background()
	var store blog.Store
	switch {
	case cfg.UsesPostgres():
		store, err = postgres.Open(ctx, cfg.DatabaseURL)
	case cfg.UsesMongo():
		store, err = mongo.Open(ctx, cfg.DatabaseURL)
	default:
		store, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "palisade.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var rdb *redis.Client
	if cfg.RedisURL != "" {
		if rdb, err = redis.Open(ctx, cfg.RedisURL, redis.Options{Prefix: cfg.RedisPrefix}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
	}
	s := &Server{Store: store, Redis: rdb, Logs: &LogBuffer{}, Config: cfg, hasher: hasher, sw: &switchHandler{}}
	s.SwapStore(t, store)
	s.Server = httptest.NewServer(s.sw)
	t.Cleanup(s.Server.Close)
	return s
}

// SwapStore rebuilds the application on another store (one that fails,
// say), keeping the configuration and the log.
func (s *Server) SwapStore(t testing.TB, store blog.Store) {
	t.Helper()
	h, err := server.App(s.Config, server.Parts{Store: store, Redis: s.Redis, Log: logging.New(s.Logs, slog.LevelDebug, "json"), Hasher: s.hasher})
	if err != nil {
		t.Fatal(err)
	}
	s.sw.h.Store(&h)
}

// switchHandler lets a test replace the application between requests
// without a data race.
type switchHandler struct{ h atomic.Pointer[http.Handler] }

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
