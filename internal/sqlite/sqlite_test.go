package sqlite_test

import (
	"context"
	"database/sql"
	"io"
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
		t.Cleanup(func() { _ = s.Close() })
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
	defer func() { _ = s.Close() }()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("database not in WAL mode: %v", err)
	}
}

// TestNewDatabasePageSize checks that new databases get 16 KiB pages, so a
// post with its HTML (4–5 KB) fits in one page instead of spilling onto
// overflow pages, which SQLite reads past its cache with a system call each.
func TestNewDatabasePageSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	header := make([]byte, 100)
	if _, err := io.ReadFull(f, header); err != nil {
		t.Fatal(err)
	}
	// The page size is bytes 16–17 of the header, big-endian.
	if got := int(header[16])<<8 | int(header[17]); got != 16384 {
		t.Errorf("page size = %d, want 16384", got)
	}
}

// TestLegacyLookAlikesKeepWorking: accounts from before look-alikes were
// refused get their skeleton at start-up; an old look-alike pair does not
// stop the server starting, both accounts keep working, and the older
// one's skeleton blocks new look-alikes.
func TestLegacyLookAlikesKeepWorking(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "h1", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// As the database was before: no skeletons, and a look-alike pair.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET username_skeleton = NULL`); err != nil {
		t.Fatal(err)
	}
	lookAlikeID := blog.NewID()
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, username, username_key, password_hash, role, created_at) VALUES (?, 'aIice', 'aiice', 'h2', 'author', ?)`,
		lookAlikeID, alice.CreatedAt.UnixMicro()+1); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("start-up with an old look-alike pair: %v", err)
	}
	defer func() { _ = s.Close() }()
	for name, id := range map[string]string{"alice": alice.ID, "aIice": lookAlikeID} {
		if u, _, err := s.Credentials(ctx, name); err != nil || u.ID != id {
			t.Fatalf("%s after start-up = %+v, %v", name, u, err)
		}
	}
	if _, err := s.CreateUser(ctx, blog.NewUser{Username: "a1ice", PasswordHash: "x", Role: blog.RoleAuthor}); blog.ErrorCode(err) != blog.ECONFLICT {
		t.Fatalf("new look-alike after the back-fill: %v, want a conflict", err)
	}
	if _, err := s.CreateUser(ctx, blog.NewUser{Username: "alicia", PasswordHash: "x", Role: blog.RoleAuthor}); err != nil {
		t.Fatal(err)
	}
}

// TestOpenConcurrentlyOnFreshDatabase starts several instances at the same
// moment on a new database file, as two replicas of a service do: none may
// fail because another is creating the file or migrating it, and each
// migration is applied once.
func TestOpenConcurrentlyOnFreshDatabase(t *testing.T) {
	const instances, rounds = 4, 5
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "palisade.db")
		start := make(chan struct{})
		errs := make(chan error, instances)
		stores := make(chan *sqlite.Store, instances)
		for range instances {
			go func() {
				<-start
				s, err := sqlite.Open(context.Background(), path)
				errs <- err
				stores <- s
			}()
		}
		close(start)
		for range instances {
			if err := <-errs; err != nil {
				t.Errorf("round %d: Open: %v", round, err)
			}
			if s := <-stores; s != nil {
				if err := s.Ping(context.Background()); err != nil {
					t.Errorf("round %d: Ping: %v", round, err)
				}
				if err := s.Close(); err != nil {
					t.Errorf("round %d: Close: %v", round, err)
				}
			}
		}
		if n, err := sqlite.Migrate(context.Background(), path); err != nil || n != 0 {
			t.Errorf("round %d: migrations left to apply after start-up: %d, %v", round, n, err)
		}
	}
}
