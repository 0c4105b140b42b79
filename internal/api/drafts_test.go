package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

func TestDrafts(t *testing.T) { apptest.ForEachStore(t, testDrafts) }

// testDrafts: a draft is served, changed and listed only for its author
// and admins. Anyone else gets exactly the 404 of a post that does not
// exist, and no listing shows it, while the honest requests beside each
// refusal succeed.
func testDrafts(t *testing.T, st apptest.Store) {
	ctx := context.Background()
	ts := newServerOn(t, st, nil)
	alice := ts.SignUp(t, "alice")
	bob := ts.SignUp(t, "bob")
	adminID := ts.Register(t, "boss")
	if err := ts.Store.SetRole(ctx, adminID, blog.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	admin := ts.Login(t, "boss")

	pub := ts.createPost(t, alice, "Alice in public", "Everyone may read this.")
	r := ts.Post(t, "/posts", alice, map[string]string{"title": "Alice's draft", "content": "Not for readers yet.", "status": "draft"})
	wantStatus(t, r, http.StatusCreated)
	var created struct{ Post blog.Post }
	r.JSON(t, &created)
	draft := created.Post
	if draft.Status != blog.StatusDraft || !draft.PublishedAt.IsZero() || !strings.Contains(string(r.Body), `"publishedAt":null`) {
		t.Fatalf("created draft = %s", r.Body)
	}
	if pub.Status != blog.StatusPublished || !pub.PublishedAt.Equal(pub.CreatedAt) {
		t.Fatalf("created post = %+v", pub)
	}
	unknown := ts.Get(t, "/posts/"+blog.NewID(), "")
	wantStatus(t, unknown, http.StatusNotFound)

	t.Run("ReadByWhom", func(t *testing.T) {
		for _, c := range []struct {
			name, token string
			want        int
		}{
			{"Anonymous", "", http.StatusNotFound},
			{"ForgedToken", "not-a-token", http.StatusNotFound},
			{"OtherAuthor", bob, http.StatusNotFound},
			{"Author", alice, http.StatusOK},
			{"Admin", admin, http.StatusOK},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := ts.Get(t, "/posts/"+draft.ID, c.token)
				wantStatus(t, r, c.want)
				if c.want == http.StatusNotFound && string(r.Body) != string(unknown.Body) {
					t.Errorf("404 for a draft = %s, for a missing post %s", r.Body, unknown.Body)
				}
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store on a draft", r.Header.Get("Cache-Control"))
				}
			})
		}
	})
	// A draft's refusal is the very answer a missing post gets, headers
	// included, to each client that may not read it; the public post and
	// the author's draft beside them keep their own caching.
	t.Run("RefusalIsAMissingPostsAnswer", func(t *testing.T) {
		for _, c := range []struct{ name, token string }{{"Anonymous", ""}, {"ForgedToken", "not-a-token"}, {"OtherAuthor", bob}} {
			t.Run(c.name, func(t *testing.T) {
				missing := ts.Get(t, "/posts/"+blog.NewID(), c.token)
				wantStatus(t, missing, http.StatusNotFound)
				ts.Get(t, "/posts/"+draft.ID, c.token).WantSameAnswer(t, missing)
				ts.Get(t, "/posts/not-an-id", c.token).WantSameAnswer(t, missing)
			})
		}
		t.Run("OtherAuthorChanges", func(t *testing.T) {
			for _, req := range []request{
				{Method: http.MethodPatch, Token: bob, Body: map[string]string{"title": "Mine now"}},
				{Method: http.MethodDelete, Token: bob},
			} {
				ask := func(id string) *response {
					req.Path = "/posts/" + id
					return ts.Do(t, req)
				}
				missing := ask(blog.NewID())
				wantStatus(t, missing, http.StatusNotFound)
				ask(draft.ID).WantSameAnswer(t, missing)
			}
		})
		if cc := ts.Get(t, "/posts/"+pub.ID, "").Want(t, http.StatusOK).Header.Get("Cache-Control"); cc != "" {
			t.Errorf("a public post is Cache-Control %q, want none (cacheable)", cc)
		}
		if cc := ts.Get(t, "/posts/"+draft.ID, alice).Want(t, http.StatusOK).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the author's draft is Cache-Control %q, want no-store", cc)
		}
	})
	t.Run("OtherAuthorCannotChange", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + draft.ID, Token: bob, Body: map[string]string{"status": "published"}})
		wantStatus(t, r, http.StatusNotFound)
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/posts/" + draft.ID, Token: bob}), http.StatusNotFound)
		// A published post of someone else stays a 403.
		r = ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + pub.ID, Token: bob, Body: map[string]string{"title": "Mine now"}})
		wantStatus(t, r, http.StatusForbidden)
		if got, err := ts.Store.PostByID(ctx, draft.ID); err != nil || got != draft {
			t.Fatalf("draft after refused changes = %+v, %v", got, err)
		}
	})
	t.Run("ListingsHideDrafts", func(t *testing.T) {
		for _, path := range []string{"/posts", "/posts?author=alice", "/posts?limit=100&status=draft"} {
			for _, token := range []string{"", bob, alice, admin} {
				var page []blog.Post
				r := ts.Get(t, path, token)
				wantStatus(t, r, http.StatusOK)
				r.JSON(t, &page)
				for _, p := range page {
					if p.ID == draft.ID || p.Status != blog.StatusPublished {
						t.Errorf("GET %s listed a draft: %+v", path, p)
					}
				}
			}
		}
		wantStatus(t, ts.Get(t, "/posts?author=nobody", ""), http.StatusNotFound)
	})
	t.Run("OwnDrafts", func(t *testing.T) {
		var page []blog.Post
		r := ts.Get(t, "/users/me/posts?status=draft", alice)
		wantStatus(t, r, http.StatusOK)
		r.JSON(t, &page)
		if len(page) != 1 || page[0] != draft {
			t.Fatalf("alice's drafts = %s", r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
		}
		r = ts.Get(t, "/users/me/posts?status=draft", bob)
		wantStatus(t, r, http.StatusOK)
		if strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("bob sees drafts: %s", r.Body)
		}
		wantStatus(t, ts.Get(t, "/users/me/posts?status=draft", ""), http.StatusUnauthorized)
		wantStatus(t, ts.Get(t, "/users/me/posts?status=all", alice), http.StatusBadRequest)
	})
	t.Run("PublishSetsPublishedAtOnce", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + draft.ID, Token: alice, Body: map[string]string{"status": "published"}})
		wantStatus(t, r, http.StatusOK)
		var p blog.Post
		r.JSON(t, &p)
		if p.Status != blog.StatusPublished || p.PublishedAt.IsZero() {
			t.Fatalf("published = %s", r.Body)
		}
		wantStatus(t, ts.Get(t, "/posts/"+draft.ID, ""), http.StatusOK)
		r = ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + draft.ID, Token: alice, Body: map[string]string{"status": "draft"}})
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, ts.Get(t, "/posts/"+draft.ID, ""), http.StatusNotFound)
		r = ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + draft.ID, Token: alice, Body: map[string]string{"status": "published"}})
		wantStatus(t, r, http.StatusOK)
		var again blog.Post
		r.JSON(t, &again)
		if !again.PublishedAt.Equal(p.PublishedAt.Time) {
			t.Fatalf("publishedAt moved from %v to %v", p.PublishedAt, again.PublishedAt)
		}
		wantStatus(t, ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + draft.ID, Token: alice, Body: map[string]string{"status": "hidden"}}), http.StatusBadRequest)
	})
	t.Run("AdminCanDeleteDraft", func(t *testing.T) {
		r := ts.Post(t, "/posts", bob, map[string]string{"title": "Bob's draft", "content": "Something to moderate.", "status": "draft"})
		wantStatus(t, r, http.StatusCreated)
		var b struct{ Post blog.Post }
		r.JSON(t, &b)
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/posts/" + b.Post.ID, Token: admin}), http.StatusNoContent)
	})
}
