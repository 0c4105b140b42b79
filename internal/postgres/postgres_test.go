package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v, %v", files, err)
	}
	if total != len(files) {
		t.Fatalf("%d instances applied %d migrations in all, want each of the %d exactly once", instances, total, len(files))
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

// TestLegacyLookAlikesKeepWorking: accounts from before look-alikes were
// refused get their skeleton at start-up; an old look-alike pair does not
// stop the server starting, both accounts keep working, and the older
// one's skeleton blocks new look-alikes.
func TestLegacyLookAlikesKeepWorking(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Schema(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "h1", Role: blog.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// As the database was before: no skeletons, and a look-alike pair.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE users SET username_skeleton = NULL`); err != nil {
		t.Fatal(err)
	}
	lookAlikeID := blog.NewID()
	if _, err := conn.Exec(ctx, `INSERT INTO users (id, username, username_key, password_hash, role, created_at) VALUES ($1, 'aIice', 'aiice', 'h2', 'user', $2)`,
		lookAlikeID, alice.CreatedAt.Add(time.Microsecond)); err != nil {
		t.Fatal(err)
	}

	s, err = postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("start-up with an old look-alike pair: %v", err)
	}
	defer s.Close()
	for name, id := range map[string]string{"alice": alice.ID, "aIice": lookAlikeID} {
		if u, _, err := s.Credentials(ctx, name); err != nil || u.ID != id {
			t.Fatalf("%s after start-up = %+v, %v", name, u, err)
		}
	}
	if _, err := s.CreateUser(ctx, blog.NewUser{Username: "a1ice", PasswordHash: "x", Role: blog.RoleUser}); blog.ErrorCode(err) != blog.ECONFLICT {
		t.Fatalf("new look-alike after the back-fill: %v, want a conflict", err)
	}
	if _, err := s.CreateUser(ctx, blog.NewUser{Username: "alicia", PasswordHash: "x", Role: blog.RoleUser}); err != nil {
		t.Fatal(err)
	}
}
