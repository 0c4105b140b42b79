package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// testDrafts holds every store to the drafts contract: a post's status and
// publishedAt round-trip, publishing sets publishedAt once, listings
// return published posts unless asked for drafts, by author as asked, and
// a draft is edited or deleted only by who may read it (ENOTFOUND for
// anyone else, so its existence is not given away).
func testDrafts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "alice", blog.RoleAuthor)
	bob := mustUser(t, s, "bob", blog.RoleAuthor)
	admin := mustUser(t, s, "admin", blog.RoleAdmin)

	pub := mustPost(t, s, alice, "Alice published")
	draft := mustDraft(t, s, alice, "Alice draft")
	bobPub := mustPost(t, s, bob, "Bob published")
	bobDraft := mustDraft(t, s, bob, "Bob draft")

	t.Run("CreatedFields", func(t *testing.T) {
		if pub.Status != blog.StatusPublished || !pub.PublishedAt.Equal(pub.CreatedAt) {
			t.Errorf("published post: status %q, publishedAt %v, createdAt %v", pub.Status, pub.PublishedAt, pub.CreatedAt)
		}
		if draft.Status != blog.StatusDraft || !draft.PublishedAt.IsZero() {
			t.Errorf("draft: status %q, publishedAt %v", draft.Status, draft.PublishedAt)
		}
		for _, p := range []blog.Post{pub, draft} {
			got, err := s.PostByID(ctx, p.ID)
			if err != nil || got != p {
				t.Errorf("read back %+v, %v; want %+v", got, err, p)
			}
		}
	})
	t.Run("UnknownStatusRefused", func(t *testing.T) {
		_, err := s.CreatePost(ctx, blog.NewPost{AuthorID: alice.ID, Title: "Odd status", Content: "some content here", ContentHTML: "<p>x</p>", Status: "secret"})
		wantCode(t, err, blog.EINVALID)
		_, err = s.UpdatePost(ctx, alice, draft.ID, blog.PostUpdate{Status: ptr(blog.PostStatus("hidden"))})
		wantCode(t, err, blog.EINVALID)
	})
	t.Run("ListingsHideDrafts", func(t *testing.T) {
		wantIDs(t, s, blog.Page{Limit: 100}, bobPub.ID, pub.ID)
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: alice.ID}, pub.ID)
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: bob.ID, Status: blog.StatusPublished}, bobPub.ID)
	})
	t.Run("DraftListingByAuthor", func(t *testing.T) {
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: alice.ID, Status: blog.StatusDraft}, draft.ID)
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: bob.ID, Status: blog.StatusDraft}, bobDraft.ID)
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: blog.NewID(), Status: blog.StatusDraft})
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: "not an id"})
	})
	t.Run("AuthorPagination", func(t *testing.T) {
		s := open(t)
		carol := mustUser(t, s, "carol", blog.RoleAuthor)
		other := mustUser(t, s, "other", blog.RoleAuthor)
		var want []string
		for i := range 7 {
			mustPost(t, s, other, "Interleaved")
			if i%3 == 0 {
				mustDraft(t, s, carol, "Carol draft")
			}
			want = append([]string{mustPost(t, s, carol, "Carol post").ID}, want...)
		}
		var got []string
		var after *blog.Cursor
		for {
			page, next, err := s.ListPosts(ctx, blog.Page{Limit: 3, After: after, AuthorID: carol.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				got = append(got, p.ID)
			}
			if next == nil {
				break
			}
			after = next
		}
		if len(got) != len(want) {
			t.Fatalf("paged %d posts, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("post %d = %s, want %s", i, got[i], want[i])
			}
		}
	})
	t.Run("OthersGetNotFound", func(t *testing.T) {
		_, err := s.UpdatePost(ctx, bob, draft.ID, blog.PostUpdate{Title: ptr("pwned")})
		wantCode(t, err, blog.ENOTFOUND)
		wantCode(t, s.DeletePost(ctx, bob, draft.ID), blog.ENOTFOUND)
		if got, err := s.PostByID(ctx, draft.ID); err != nil || got != draft {
			t.Fatalf("draft changed by a refused edit: %+v, %v", got, err)
		}
		// A published post of someone else is still a plain EFORBIDDEN.
		_, err = s.UpdatePost(ctx, bob, pub.ID, blog.PostUpdate{Title: ptr("pwned")})
		wantCode(t, err, blog.EFORBIDDEN)
	})
	t.Run("AdminCanEditDraft", func(t *testing.T) {
		up, err := s.UpdatePost(ctx, admin, bobDraft.ID, blog.PostUpdate{Title: ptr("Bob draft, moderated")})
		if err != nil || up.Status != blog.StatusDraft || !up.PublishedAt.IsZero() {
			t.Fatalf("admin edit of a draft = %+v, %v", up, err)
		}
	})
	t.Run("PublishSetsPublishedAtOnce", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond) // so publishing is later than creating
		up, err := s.UpdatePost(ctx, alice, draft.ID, blog.PostUpdate{Status: ptr(blog.StatusPublished)})
		if err != nil {
			t.Fatal(err)
		}
		first := up.PublishedAt
		if up.Status != blog.StatusPublished || first.IsZero() || !first.After(draft.CreatedAt) || up.Title != draft.Title {
			t.Fatalf("published = %+v", up)
		}
		if got, err := s.PostByID(ctx, draft.ID); err != nil || got != up {
			t.Fatalf("read back %+v, %v; want %+v", got, err, up)
		}
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: alice.ID}, draft.ID, pub.ID)

		// Back to a draft, then published again: the first date stays.
		time.Sleep(2 * time.Millisecond)
		back, err := s.UpdatePost(ctx, alice, draft.ID, blog.PostUpdate{Status: ptr(blog.StatusDraft)})
		if err != nil || back.Status != blog.StatusDraft || !back.PublishedAt.Equal(first.Time) {
			t.Fatalf("unpublished = %+v, %v", back, err)
		}
		wantIDs(t, s, blog.Page{Limit: 100, AuthorID: alice.ID}, pub.ID)
		again, err := s.UpdatePost(ctx, alice, draft.ID, blog.PostUpdate{Status: ptr(blog.StatusPublished)})
		if err != nil || !again.PublishedAt.Equal(first.Time) {
			t.Fatalf("published again = %+v, %v; want publishedAt %v", again, err, first)
		}
		// An edit of a published post leaves publishedAt alone too.
		edited, err := s.UpdatePost(ctx, alice, draft.ID, blog.PostUpdate{Title: ptr("Alice, edited")})
		if err != nil || !edited.PublishedAt.Equal(first.Time) {
			t.Fatalf("edited = %+v, %v", edited, err)
		}
	})
	t.Run("AuthorCanDeleteDraft", func(t *testing.T) {
		d := mustDraft(t, s, alice, "Short-lived draft")
		if err := s.DeletePost(ctx, alice, d.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.PostByID(ctx, d.ID)
		wantCode(t, err, blog.ENOTFOUND)
	})
}

func mustDraft(t *testing.T, s blog.Store, author blog.User, title string) blog.Post {
	t.Helper()
	p, err := s.CreatePost(context.Background(), blog.NewPost{AuthorID: author.ID, Title: title, Content: "content of " + title, ContentHTML: "<p>content of " + title + "</p>", Status: blog.StatusDraft})
	if err != nil {
		t.Fatalf("create draft %q: %v", title, err)
	}
	return p
}

// wantIDs lists one page and wants exactly these posts, in this order.
func wantIDs(t *testing.T, s blog.Store, page blog.Page, want ...string) {
	t.Helper()
	got, next, err := s.ListPosts(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	if next != nil {
		t.Errorf("unexpected next page after %d posts", len(got))
	}
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = p.ID
	}
	if len(ids) != len(want) {
		t.Fatalf("ListPosts(%+v) = %v, want %v", page, ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("ListPosts(%+v) = %v, want %v", page, ids, want)
		}
	}
}
