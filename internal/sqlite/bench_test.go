package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// BenchmarkQueries measures each read the request path makes, on 10,000
// posts, including a page deep in the feed (keyset: as cheap as page 1).
func BenchmarkQueries(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	u, _ := s.CreateUser(ctx, blog.NewUser{Username: "bench", PasswordHash: "x", Role: blog.RoleAuthor})
	var mid blog.Post
	for i := range 10_000 {
		p, err := s.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: fmt.Sprint("Post ", i), Content: "Some content", ContentHTML: "<p>Some content</p>"})
		if err != nil {
			b.Fatal(err)
		}
		if i == 5_000 {
			mid = p
		}
	}
	b.Run("ListPostsFirstPage", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.ListPosts(ctx, blog.Page{Limit: 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListPostsDeepPage", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.ListPosts(ctx, blog.Page{Limit: 20, After: blog.CursorAfter(mid)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PostByID", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.PostByID(ctx, mid.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UserByID", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.UserByID(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TokenRevoked", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.TokenRevoked(ctx, "jti"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
