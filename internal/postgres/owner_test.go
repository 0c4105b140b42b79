package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
)

// TestRoleMigration upgrades a schema made by the first three migrations,
// with the "user" role, to the current one: the role becomes "author", the
// old name is refused from then on, and posts are kept.
func TestRoleMigration(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Schema(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
	for v, name := range []string{"0001_init.sql", "0002_sessions.sql", "0003_username_skeleton.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (version) VALUES ($1)`, v+1)
	}
	authorID, adminID := blog.NewID(), blog.NewID()
	now := blog.Now()
	exec(`INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role, created_at) VALUES
		($1, 'writer', 'writer', 'writer', 'h1', 'user', $3), ($2, 'boss', 'boss', 'boss', 'h2', 'admin', $3)`, authorID, adminID, now)
	exec(`INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at) VALUES ($1, $2, 'title', 'content', '<p>content</p>', $3, $3)`,
		blog.NewID(), authorID, now)

	// 0004, 0005 (drafts), 0006 (second factors), 0007 (passkeys) and 0008 (leases).
	if n, err := postgres.Migrate(ctx, url); err != nil || n != 5 {
		t.Fatalf("migrate applied %d, %v; want 5", n, err)
	}
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for id, want := range map[string]blog.Role{authorID: blog.RoleAuthor, adminID: blog.RoleAdmin} {
		if u, err := s.UserByID(ctx, id); err != nil || u.Role != want || u.TOTP || u.Passkeys != 0 {
			t.Fatalf("user %s after the migration = %+v, %v; want role %s, no TOTP, no passkey", id, u, err, want)
		}
		// 0007: existing accounts have no passkey.
		if keys, err := s.Passkeys(ctx, id); err != nil || len(keys) != 0 {
			t.Fatalf("passkeys of user %s after the migration = %+v, %v", id, keys, err)
		}
		// 0006: existing accounts have no second factor.
		if f, err := s.TwoFactor(ctx, id); err != nil || f.TOTPSecret != "" || f.TOTPEnabled || len(f.RecoveryCodes) != 0 {
			t.Fatalf("second factor of user %s after the migration = %+v, %v", id, f, err)
		}
	}
	posts, _, err := s.ListPosts(ctx, blog.Page{Limit: 10})
	if err != nil || len(posts) != 1 {
		t.Fatalf("posts after the migration: %d, %v; want 1", len(posts), err)
	}
	// 0005: posts from before drafts are published as of their creation.
	if p := posts[0]; p.Status != blog.StatusPublished || !p.PublishedAt.Equal(p.CreatedAt) {
		t.Fatalf("post after the drafts migration: status %q, publishedAt %v, createdAt %v", p.Status, p.PublishedAt, p.CreatedAt)
	}
	if _, err := conn.Exec(ctx, `UPDATE users SET role = 'user' WHERE id = $1`, authorID); err == nil {
		t.Fatal("the old role name is still accepted")
	}
}
