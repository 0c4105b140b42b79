package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/sqlite"
)

// TestListingPlans: with drafts in the table, the home page still walks
// an index in feed order (the partial index of published posts, no sort
// step), and an author's page and drafts walk posts_author. The queries
// are the store's, as ListPosts builds them.
func TestListingPlans(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	if _, err := sqlite.Migrate(ctx, path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	const sel = `SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id`
	for _, c := range []struct {
		name, where, index string
		args               []any
	}{
		{"Home", ` WHERE p.status = 'published'`, "posts_published", nil},
		{"HomeNextPage", ` WHERE p.status = 'published' AND (p.created_at, p.id) < (?, ?)`, "posts_published", []any{1, "x"}},
		{"Author", ` WHERE p.status = 'published' AND p.author_id = ?`, "posts_author", []any{"a"}},
		{"Drafts", ` WHERE p.status = 'draft' AND p.author_id = ? AND (p.created_at, p.id) < (?, ?)`, "posts_author", []any{"a", 1, "x"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+sel+c.where+` ORDER BY p.created_at DESC, p.id DESC LIMIT 21`, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rows.Close() }()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(plan, "\n")
			if !strings.Contains(all, "INDEX "+c.index) || strings.Contains(all, "TEMP B-TREE") {
				t.Fatalf("plan does not walk %s in order:\n%s", c.index, all)
			}
		})
	}
}
