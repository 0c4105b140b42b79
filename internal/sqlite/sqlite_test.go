package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sqlite"
	"github.com/palisade-blog/palisade/internal/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) blog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "palisade.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	n, err := sqlite.Migrate(ctx, path)
	if err != nil || n == 0 {
		t.Fatalf("first migrate applied %d, %v", n, err)
	}
	n, err = sqlite.Migrate(ctx, path)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d, %v", n, err)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("database not in WAL mode: %v", err)
	}
}
