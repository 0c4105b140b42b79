package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// TestRoleMigration upgrades a database made by the first three
// migrations, with the "user" role and posts, to the current schema: the
// users table is rebuilt to change its role CHECK, which must rename the
// role without losing a post to the ON DELETE CASCADE of posts.author_id,
// and leave that reference pointing at the new table.
func TestRoleMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`)
	for v, name := range []string{"0001_init.sql", "0002_sessions.sql", "0003_username_skeleton.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, v+1)
	}
	authorID, adminID := blog.NewID(), blog.NewID()
	exec(`INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role, created_at) VALUES
		(?, 'writer', 'writer', 'writer', 'h1', 'user', 1), (?, 'boss', 'boss', 'boss', 'h2', 'admin', 2)`, authorID, adminID)
	for i := range 3 {
		exec(`INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at) VALUES (?, ?, 'title', 'content', '<p>content</p>', ?, ?)`,
			blog.NewID(), []string{authorID, adminID}[i%2], 10+i, 10+i)
	}

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer func() { _ = s.Close() }()
	for id, want := range map[string]blog.Role{authorID: blog.RoleAuthor, adminID: blog.RoleAdmin} {
		if u, err := s.UserByID(ctx, id); err != nil || u.Role != want || u.TOTP {
			t.Fatalf("user %s after the migration = %+v, %v; want role %s, no TOTP", id, u, err, want)
		}
		// 0006: existing accounts have no second factor.
		if f, err := s.TwoFactor(ctx, id); err != nil || f.TOTPSecret != "" || f.TOTPEnabled || len(f.RecoveryCodes) != 0 {
			t.Fatalf("second factor of user %s after the migration = %+v, %v", id, f, err)
		}
	}
	posts, _, err := s.ListPosts(ctx, blog.Page{Limit: 10})
	if err != nil || len(posts) != 3 {
		t.Fatalf("posts after the migration: %d, %v; want 3", len(posts), err)
	}
	// 0005: posts from before drafts are published as of their creation.
	for _, p := range posts {
		if p.Status != blog.StatusPublished || !p.PublishedAt.Equal(p.CreatedAt) {
			t.Fatalf("post after the drafts migration: status %q, publishedAt %v, createdAt %v", p.Status, p.PublishedAt, p.CreatedAt)
		}
	}
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = 'posts'`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(schema, "REFERENCES users") {
		t.Fatalf("posts no longer references users: %s", schema)
	}
	// The reference is enforced against the new table.
	if _, err := db.ExecContext(ctx, `INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at) VALUES (?, ?, 't', 'c', 'c', 1, 1)`,
		blog.NewID(), blog.NewID()); err == nil {
		t.Fatal("a post by a missing author was stored")
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET role = 'user' WHERE id = ?`, authorID); err == nil {
		t.Fatal("the old role name is still accepted")
	}
}
