package postgres_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
		t.Cleanup(func() { _ = s.Close() })
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
	alice, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "h1", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// As the database was before: no skeletons, and a look-alike pair.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, `UPDATE users SET username_skeleton = NULL`); err != nil {
		t.Fatal(err)
	}
	lookAlikeID := blog.NewID()
	if _, err := conn.Exec(ctx, `INSERT INTO users (id, username, username_key, password_hash, role, created_at) VALUES ($1, 'aIice', 'aiice', 'h2', 'author', $2)`,
		lookAlikeID, alice.CreatedAt.Add(time.Microsecond)); err != nil {
		t.Fatal(err)
	}

	s, err = postgres.Open(ctx, url)
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

// TestOpenSilentServerTimesOut points Open at a listener that accepts
// connections and never answers (a wrong port, a proxy with nothing
// behind it): start-up must give up after the connect time-out with an
// error that says so, instead of hanging forever.
func TestOpenSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	}()
	defer postgres.SetConnectTimeout(500 * time.Millisecond)()

	url := "postgres://palisade:hunter2-secret@" + ln.Addr().String() + "/test?sslmode=disable"
	addr, timeout, ok := postgres.Target(url)
	if !ok || addr != ln.Addr().String() || timeout != 500*time.Millisecond {
		t.Errorf("Target = %q, %v, %v; want %q, 500ms", addr, timeout, ok, ln.Addr())
	}
	done := make(chan error, 1)
	go func() {
		_, err := postgres.Open(context.Background(), url)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("opened a database that never answered")
		}
		msg := err.Error()
		t.Logf("Open: %s", msg)
		if !strings.Contains(msg, ln.Addr().String()) || !strings.Contains(msg, "no answer within") {
			t.Errorf("error %q does not say which server did not answer", msg)
		}
		if strings.Contains(msg, "hunter2-secret") {
			t.Errorf("error shows the password: %q", msg)
		}
	case <-time.After(time.Minute):
		t.Fatal("Open still waiting after a minute: start-up hangs on a silent server")
	}

	// The URL's own connect_timeout wins over the default.
	if _, timeout, _ := postgres.Target(url + "&connect_timeout=42"); timeout != 42*time.Second {
		t.Errorf("connect_timeout=42 gave %v", timeout)
	}
}
