package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/palisade-blog/palisade/internal/blog"
)

// TestDiskFullMapped checks what a disk_full error (SQLSTATE 53100) from
// the server becomes: ENOSPACE for the caller (a 507, not a 500), and a
// failing Ping (readiness) until a write succeeds. A full disk on the test
// server can't be arranged, so the error is the server's own type built
// here; the SQLite store's test fills a real database.
func TestDiskFullMapped(t *testing.T) {
	url := os.Getenv("PALISADE_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("postgres tests skipped: PALISADE_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	s, err := open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	full := &pgconn.PgError{Code: "53100", Message: `could not extend file "base/16384/16385": No space left on device`}
	err = s.wrote(full)
	if code := blog.ErrorCode(err); code != blog.ENOSPACE {
		t.Fatalf("disk_full became code %q (%v)", code, err)
	}
	if err := s.Ping(ctx); blog.ErrorCode(err) != blog.ENOSPACE {
		t.Fatalf("Ping after a disk_full write = %v, want ENOSPACE", err)
	}
	if err := s.wrote(nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after a write succeeded: %v", err)
	}
}
