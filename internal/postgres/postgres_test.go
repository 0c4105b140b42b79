package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
	"github.com/palisade-blog/palisade/internal/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) blog.Store {
		s, err := postgres.Open(context.Background(), pgtest.Schema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.Schema(t)
	const instances = 4
	errs := make(chan error, instances)
	applied := make(chan int, instances)
	for range instances {
		go func() {
			n, err := postgres.Migrate(context.Background(), url)
			errs <- err
			applied <- n
		}()
	}
	total := 0
	for range instances {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		total += <-applied
	}
	if total != 2 {
		t.Fatalf("%d instances applied %d migrations in all, want each of the 2 exactly once", instances, total)
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	if os.Getenv("PALISADE_TEST_POSTGRES_URL") == "" {
		t.Skip("postgres tests skipped: PALISADE_TEST_POSTGRES_URL is not set")
	}
	_, err := postgres.Open(context.Background(), "postgres://palisade:hunter2-secret@127.0.0.1:1/test?connect_timeout=1")
	if err == nil {
		t.Fatal("opened a database on a dead port")
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("error shows the password: %v", err)
	}
	_, err = postgres.Open(context.Background(), "postgres://palisade:hunter2-secret@127.0.0.1:5432/test?sslmode=bogus")
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("bad URL error: %v", err)
	}
}
