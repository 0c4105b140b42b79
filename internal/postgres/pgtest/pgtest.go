// Package pgtest gives each test its own PostgreSQL schema, so tests run in
// parallel on one database and leave nothing behind. Tests skip with a
// clear line when PALISADE_TEST_POSTGRES_URL is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL returns the test database URL, or skips the test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PALISADE_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("postgres tests skipped: PALISADE_TEST_POSTGRES_URL is not set")
	}
	return u
}

// Schema creates a fresh schema, drops it when the test ends, and returns
// a database URL whose connections use it (search_path) and carry its name
// as their application_name (see AppName).
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "palisade_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", "PALISADE_TEST_POSTGRES_URL", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", name, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	// Named after the schema, so a test that kills connections
	// (pg_terminate_backend) can kill only its own and not those of tests
	// running beside it in other packages.
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Conn returns a connection to the test database, named so tests that kill
// other connections can spare it, closed when the test ends.
func Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "pgtest-admin"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// AppName is the application_name that the connections of a URL made by
// Schema carry: the schema's name.
func AppName(t testing.TB, schemaURL string) string {
	t.Helper()
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("application_name")
}
