package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// TestDiskFull fills a real database to its page limit: the write that does
// not fit fails with ENOSPACE (never a bare 500), stores nothing, and Ping
// (readiness) fails until there is room again; then writes work.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	u, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "x", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	var pages int64
	if err := s.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMaxPages(ctx, pages+2); err != nil {
		t.Fatal(err)
	}
	body := strings.TrimSpace(strings.Repeat("All work and no play. ", 2000)) // 44 KB: several pages
	newPost := blog.NewPost{AuthorID: u.ID, Title: "Too big", Content: body, ContentHTML: "<p>" + body + "</p>"}

	_, err = s.CreatePost(ctx, newPost)
	if code := blog.ErrorCode(err); code != blog.ENOSPACE {
		t.Fatalf("CreatePost on a full database: code %q (%v), want %q", code, err, blog.ENOSPACE)
	}
	if msg := blog.ErrorMessage(err); strings.Contains(msg, "SQLITE") || strings.Contains(msg, "database or disk") {
		t.Errorf("client-facing message shows the driver's: %q", msg)
	}
	if posts, _, err := s.ListPosts(ctx, blog.Page{Limit: 10}); err != nil || len(posts) != 0 {
		t.Fatalf("after the failed write: %d posts, %v; want none stored", len(posts), err)
	}
	// Sessions are writes too (signing in on the website).
	err = s.SaveSession(ctx, "k", []byte(body), time.Now().Add(time.Hour))
	if code := blog.ErrorCode(err); code != blog.ENOSPACE {
		t.Errorf("SaveSession on a full database: code %q (%v)", code, err)
	}

	err = s.Ping(ctx)
	if blog.ErrorCode(err) != blog.ENOSPACE {
		t.Fatalf("Ping while full = %v, want an ENOSPACE error (readiness must fail)", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping passed while the database is still full")
	}

	// The operator makes room: the probe in Ping sees it, then writes work.
	if err := s.SetMaxPages(ctx, pages+1000); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after room was made: %v", err)
	}
	if _, err := s.CreatePost(ctx, newPost); err != nil {
		t.Fatalf("CreatePost after room was made: %v", err)
	}

	// A successful write also clears the mark, without a probe.
	if err := s.SetMaxPages(ctx, pages+2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePost(ctx, newPost); blog.ErrorCode(err) != blog.ENOSPACE {
		t.Fatalf("second fill: %v", err)
	}
	if err := s.DeleteSession(ctx, "nothing"); err != nil {
		t.Fatalf("a delete on a full database: %v", err)
	}
	if s.full.Load() {
		t.Fatal("a successful write left the store marked full")
	}
}
