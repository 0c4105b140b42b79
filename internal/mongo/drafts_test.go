package mongo_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
)

// TestPostsFromBeforeDraftsArePublished: a post stored by an older
// version has no status and no publishedAt. It reads as published at its
// creation, is listed, and can be made a draft (then it is not).
func TestPostsFromBeforeDraftsArePublished(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	s := open(t, url)
	author, err := s.CreateUser(ctx, blog.NewUser{Username: "writer", PasswordHash: "h", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	id, created := blog.NewID(), blog.Now()
	if _, err := rawDB(t, url).Collection("posts").InsertOne(ctx, bson.M{"_id": id, "author": author.ID, "title": "Old post",
		"content": "old content", "contentHtml": "<p>old content</p>", "createdAt": created.UnixMicro(), "updatedAt": created.UnixMicro()}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PostByID(ctx, id)
	if err != nil || p.Status != blog.StatusPublished || !p.PublishedAt.Equal(created) {
		t.Fatalf("old post = %+v, %v; want published at %v", p, err, created)
	}
	if posts, _, err := s.ListPosts(ctx, blog.Page{Limit: 10, AuthorID: author.ID}); err != nil || len(posts) != 1 || posts[0] != p {
		t.Fatalf("author listing = %+v, %v", posts, err)
	}
	draft := blog.StatusDraft
	if _, err := s.UpdatePost(ctx, author, id, blog.PostUpdate{Status: &draft}); err != nil {
		t.Fatal(err)
	}
	if posts, _, err := s.ListPosts(ctx, blog.Page{Limit: 10}); err != nil || len(posts) != 0 {
		t.Fatalf("listing after unpublishing = %+v, %v; want none", posts, err)
	}
	if p, err := s.PostByID(ctx, id); err != nil || p.Status != blog.StatusDraft || !p.PublishedAt.Equal(created) {
		t.Fatalf("unpublished old post = %+v, %v; want a draft that keeps its publishedAt", p, err)
	}
}
