package apptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
)

// Store is one way to run the application's state: a database, and
// where rate limits, sessions and revocations live.
type Store struct {
	// Name names the subtest: "SQLite", "Postgres+Redis" or "MongoDB".
	Name string
	env  func(t testing.TB) map[string]string
}

// Stores are the setups the end-to-end suites run on:
//
//   - SQLite, with limits in memory and sessions in the database: always;
//   - PostgreSQL, with limits, sessions and revocations in Redis:
//     when PALISADE_TEST_POSTGRES_URL is set (Redis too when
//     PALISADE_TEST_REDIS_URL is);
//   - MongoDB (or FerretDB), limits in memory: when
//     PALISADE_TEST_MONGODB_URL is set.
//
// A setup whose variables are unset is still listed; its subtests skip
// with a line saying which variable to set.
func Stores() []Store {
	return []Store{
		{Name: "SQLite", env: func(testing.TB) map[string]string { return nil }},
		{Name: "Postgres+Redis", env: func(t testing.TB) map[string]string {
			env := map[string]string{"PALISADE_DATABASE_URL": pgtest.Schema(t)}
			if u := os.Getenv("PALISADE_TEST_REDIS_URL"); u != "" {
				env["PALISADE_REDIS_URL"] = u
				env["PALISADE_REDIS_PREFIX"] = redisPrefix(t, u)
			}
			return env
		}},
		{Name: "MongoDB", env: func(t testing.TB) map[string]string {
			return map[string]string{"PALISADE_DATABASE_URL": mongotest.Database(t)}
		}},
	}
}

// ForEachStore runs f once per setup in Stores, each as a subtest named
// after it. Each Start within f gets fresh state: a new SQLite file,
// PostgreSQL schema, MongoDB database and Redis key prefix.
func ForEachStore(t *testing.T, f func(t *testing.T, st Store)) {
	t.Helper()
	for _, st := range Stores() {
		t.Run(st.Name, func(t *testing.T) { f(t, st) })
	}
}

// Start is apptest.Start on this setup: env goes on top of the setup's
// variables.
func (st Store) Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	return Start(t, st.Env(t, env))
}

// StartWithHasher is apptest.StartWithHasher on this setup.
func (st Store) StartWithHasher(t testing.TB, env map[string]string, hasher account.Hasher) *Server {
	t.Helper()
	return StartWithHasher(t, st.Env(t, env), hasher)
}

// Env returns env on top of a fresh instance of the setup's variables
// (database URL, Redis URL and prefix). It skips the test when the
// setup's service is not configured.
func (st Store) Env(t testing.TB, env map[string]string) map[string]string {
	t.Helper()
	out := st.env(t)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// redisPrefix returns a fresh key prefix and deletes every key under it
// when the test ends, so runs never see each other's counters or
// sessions and leave nothing behind.
// RedisPrefix returns a fresh key prefix on the Redis at rawURL whose keys
// are deleted at the end of the test, for tests that open a redis.Client
// of their own.
func RedisPrefix(t testing.TB, rawURL string) string {
	t.Helper()
	return redisPrefix(t, rawURL)
}

func redisPrefix(t testing.TB, rawURL string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	prefix := "palisade-test-" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ro, err := goredis.ParseURL(rawURL)
		if err != nil {
			t.Logf("redis cleanup: %v", err)
			return
		}
		rdb := goredis.NewClient(ro)
		defer func() { _ = rdb.Close() }() // a cleanup's connection; nothing to do on failure
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var keys []string
		it := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			keys = append(keys, it.Val())
		}
		if err := it.Err(); err != nil {
			t.Logf("redis cleanup: scan %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Logf("redis cleanup: delete %d keys: %v", len(keys), err)
			}
		}
	})
	return prefix
}
