package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// writeAs writes a post through the editor with the given status and
// returns its ID.
func writeAs(t *testing.T, b *apptest.Client, title, content string, status blog.PostStatus) string {
	t.Helper()
	p := b.Submit(t, "/write", "/write", url.Values{"title": {title}, "content": {content}, "status": {string(status)}})
	wantStatus(t, p, http.StatusSeeOther)
	id, ok := strings.CutPrefix(p.Header.Get("Location"), "/post/")
	if !ok {
		t.Fatalf("write redirected to %q", p.Header.Get("Location"))
	}
	return id
}

func wantNoText(t *testing.T, p *page, what, unwanted string) {
	t.Helper()
	if strings.Contains(p.Text(), unwanted) {
		t.Errorf("%s shows %q:\n%s", what, unwanted, p.Text())
	}
}

func wantShown(t *testing.T, p *page, what, wanted string) {
	t.Helper()
	if !strings.Contains(p.Text(), wanted) {
		t.Errorf("%s does not show %q:\n%s", what, wanted, p.Text())
	}
}

func TestDrafts(t *testing.T) { apptest.ForEachStore(t, testDrafts) }

// testDrafts: a draft is seen only by its author and admins. Everyone
// else meets the page of a post that does not exist, on the post, its
// edit and delete pages, and no listing or feed shows it; the author sees
// it on their own page, marked as a draft.
func testDrafts(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	alice, bob, boss, anon := newClient(t, srv), newClient(t, srv), newClient(t, srv), newClient(t, srv)
	register(t, alice, "alice")
	register(t, bob, "bob")
	register(t, boss, "boss")
	u, err := srv.Store.UserByUsername(t.Context(), "boss")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetRole(t.Context(), u.ID, blog.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	const secret = "Secret plans for Tuesday"
	pubID := writeAs(t, alice, "Alice in public", "Everyone may read this one.", blog.StatusPublished)
	draftID := writeAs(t, alice, secret, "Not for readers yet, not at all.", blog.StatusDraft)
	before, err := srv.Store.PostByID(t.Context(), draftID)
	if err != nil || before.Status != blog.StatusDraft || !before.PublishedAt.IsZero() {
		t.Fatalf("draft as stored = %+v, %v", before, err)
	}
	missing := anon.Page(t, "/post/"+blog.NewID())
	wantStatus(t, missing, http.StatusNotFound)

	t.Run("OthersGetNotFound", func(t *testing.T) {
		for name, c := range map[string]*apptest.Client{"Anonymous": anon, "OtherAuthor": bob} {
			t.Run(name, func(t *testing.T) {
				p := c.Page(t, "/post/"+draftID)
				wantStatus(t, p, http.StatusNotFound)
				wantNoText(t, p, "a draft's 404", secret)
				if !strings.Contains(p.Text(), "There is no such post") {
					t.Errorf("a draft's 404 differs from a missing post's:\n%s", p.Text())
				}
			})
		}
		wantStatus(t, bob.Page(t, "/post/"+draftID+"/edit"), http.StatusNotFound)
		wantStatus(t, bob.Page(t, "/post/"+draftID+"/delete"), http.StatusNotFound)
		wantStatus(t, bob.Submit(t, "/write", "/post/"+draftID+"/edit", url.Values{"title": {"Pwned"}, "content": {"Bob was here, long enough."}, "status": {"published"}}), http.StatusNotFound)
		wantStatus(t, bob.Submit(t, "/write", "/post/"+draftID+"/delete", url.Values{}), http.StatusNotFound)
		if after, err := srv.Store.PostByID(t.Context(), draftID); err != nil || after != before {
			t.Fatalf("draft after refused changes = %+v, %v", after, err)
		}
		// Someone else's published post is still a 403 beside it.
		wantStatus(t, bob.Page(t, "/post/"+pubID+"/edit"), http.StatusForbidden)
	})
	// The same answer, headers included, as for a post that does not
	// exist: on the post page to a visitor and to another author, and on
	// the edit and delete pages and forms to another author.
	t.Run("RefusalIsAMissingPostsAnswer", func(t *testing.T) {
		edit := url.Values{"title": {"Pwned"}, "content": {"Bob was here, long enough."}, "status": {"published"}}
		for _, c := range []struct {
			name string
			ask  func(id string) *page
		}{
			{"AnonymousPost", func(id string) *page { return anon.Page(t, "/post/"+id) }},
			{"OtherAuthorPost", func(id string) *page { return bob.Page(t, "/post/"+id) }},
			{"EditForm", func(id string) *page { return bob.Page(t, "/post/"+id+"/edit") }},
			{"Edit", func(id string) *page { return bob.Submit(t, "/write", "/post/"+id+"/edit", edit) }},
			{"DeleteForm", func(id string) *page { return bob.Page(t, "/post/"+id+"/delete") }},
			{"Delete", func(id string) *page { return bob.Submit(t, "/write", "/post/"+id+"/delete", url.Values{}) }},
		} {
			t.Run(c.name, func(t *testing.T) {
				missing := c.ask(blog.NewID())
				wantStatus(t, missing, http.StatusNotFound)
				c.ask(draftID).WantSameAnswer(t, missing)
			})
		}
		if after, err := srv.Store.PostByID(t.Context(), draftID); err != nil || after != before {
			t.Fatalf("draft after refused changes = %+v, %v", after, err)
		}
	})
	t.Run("AuthorAndAdminSeeIt", func(t *testing.T) {
		for name, c := range map[string]*apptest.Client{"Author": alice, "Admin": boss} {
			t.Run(name, func(t *testing.T) {
				p := c.Page(t, "/post/"+draftID)
				wantStatus(t, p, http.StatusOK)
				wantShown(t, p, "the draft's page", secret)
				wantShown(t, p, "the draft's page", "Only its author and the site’s admins can see this post.")
			})
		}
		edit := alice.Page(t, "/post/"+draftID+"/edit")
		wantStatus(t, edit, http.StatusOK)
		if !strings.Contains(edit.Text(), `value="draft" checked`) {
			t.Errorf("the editor does not keep the draft choice:\n%s", edit.Text())
		}
	})
	t.Run("ListingsAndFeedsHideIt", func(t *testing.T) {
		for name, c := range map[string]*apptest.Client{"Anonymous": anon, "OtherAuthor": bob, "Admin": boss, "Author": alice} {
			t.Run(name, func(t *testing.T) {
				home := c.Page(t, "/")
				wantStatus(t, home, http.StatusOK)
				wantNoText(t, home, "the home page", secret)
				wantShown(t, home, "the home page", `href="/u/alice"`)
				feed := c.Page(t, "/u/alice/feed.xml")
				wantStatus(t, feed, http.StatusOK)
				wantNoText(t, feed, "alice's feed", secret)
				wantShown(t, feed, "alice's feed", "Alice in public")
				if c == alice {
					return
				}
				page := c.Page(t, "/u/alice")
				wantStatus(t, page, http.StatusOK)
				wantNoText(t, page, "alice's page", secret)
				wantNoText(t, page, "alice's page", "Your drafts")
				wantShown(t, page, "alice's page", "Alice in public")
			})
		}
	})
	t.Run("AuthorPageShowsOwnDrafts", func(t *testing.T) {
		p := alice.Page(t, "/u/alice")
		wantStatus(t, p, http.StatusOK)
		wantShown(t, p, "alice's own page", "Your drafts")
		wantShown(t, p, "alice's own page", secret)
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q on a page with drafts", p.Header.Get("Cache-Control"))
		}
	})
	t.Run("PublishSetsPublishedAtOnce", func(t *testing.T) {
		form := url.Values{"title": {secret}, "content": {"Not for readers yet, not at all."}}
		form.Set("status", "published")
		wantRedirect(t, alice.Submit(t, "/post/"+draftID+"/edit", "/post/"+draftID+"/edit", form), "/post/"+draftID)
		published, err := srv.Store.PostByID(t.Context(), draftID)
		if err != nil || published.Status != blog.StatusPublished || published.PublishedAt.IsZero() {
			t.Fatalf("published = %+v, %v", published, err)
		}
		wantShown(t, anon.Page(t, "/"), "the home page", secret)
		wantShown(t, anon.Page(t, "/u/alice/feed.xml"), "alice's feed", secret)

		form.Set("status", "draft")
		wantRedirect(t, alice.Submit(t, "/post/"+draftID+"/edit", "/post/"+draftID+"/edit", form), "/post/"+draftID)
		form.Set("status", "published")
		wantRedirect(t, alice.Submit(t, "/post/"+draftID+"/edit", "/post/"+draftID+"/edit", form), "/post/"+draftID)
		again, err := srv.Store.PostByID(t.Context(), draftID)
		if err != nil || !again.PublishedAt.Equal(published.PublishedAt.Time) {
			t.Fatalf("publishedAt moved from %v to %+v, %v", published.PublishedAt, again, err)
		}
	})
	t.Run("UnknownStatusRefused", func(t *testing.T) {
		p := alice.Submit(t, "/write", "/write", url.Values{"title": {"Odd"}, "content": {"Some content here."}, "status": {"secret"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantShown(t, p, "the editor", "Status must be")
	})
}

var regexpNext = regexp.MustCompile(`href="([^"]+)" rel="next"`)

func TestAuthorPages(t *testing.T) { apptest.ForEachStore(t, testAuthorPages) }

// testAuthorPages: /u/{username} pages an author's posts like the home
// page, and its feed answers conditional requests with 304.
func testAuthorPages(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	alice, bob, anon := newClient(t, srv), newClient(t, srv), newClient(t, srv)
	register(t, alice, "alice")
	register(t, bob, "bob")
	for range blog.DefaultPageLimit + 1 {
		write(t, alice, "Alice writes", "Another post by alice.")
		write(t, bob, "Bob writes", "Another post by bob.")
	}

	t.Run("Paged", func(t *testing.T) {
		first := anon.Page(t, "/u/ALICE") // any capitals
		wantStatus(t, first, http.StatusOK)
		if n := strings.Count(first.Text(), "Alice writes"); n != blog.DefaultPageLimit {
			t.Errorf("first page has %d posts, want %d", n, blog.DefaultPageLimit)
		}
		wantNoText(t, first, "alice's page", "Bob writes")
		next := regexpNext.FindStringSubmatch(first.Text())
		if next == nil || !strings.HasPrefix(next[1], "/u/alice?cursor=") {
			t.Fatalf("no next link on alice's first page:\n%s", first.Text())
		}
		second := anon.Page(t, strings.ReplaceAll(next[1], "&amp;", "&"))
		wantStatus(t, second, http.StatusOK)
		if n := strings.Count(second.Text(), "Alice writes"); n != 1 || regexpNext.MatchString(second.Text()) {
			t.Errorf("second page has %d posts (want 1) or a next link", n)
		}
	})
	t.Run("UnknownAuthor", func(t *testing.T) {
		wantStatus(t, anon.Page(t, "/u/nobody"), http.StatusNotFound)
		wantStatus(t, anon.Page(t, "/u/nobody/feed.xml"), http.StatusNotFound)
		wantStatus(t, anon.Page(t, "/u/alice?cursor=bogus"), http.StatusBadRequest)
	})
	t.Run("Feed", func(t *testing.T) {
		feed := anon.Page(t, "/u/alice/feed.xml")
		wantStatus(t, feed, http.StatusOK)
		if ct := feed.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
			t.Errorf("Content-Type = %q", ct)
		}
		if n := strings.Count(feed.Text(), "<entry>"); n != 20 {
			t.Errorf("feed has %d entries, want 20", n)
		}
		wantNoText(t, feed, "alice's feed", "Bob writes")
		wantShown(t, feed, "alice's feed", "<title type=\"text\">alice · Palisade</title>")
		etag := feed.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		again := anon.Do(t, apptest.Request{Path: "/u/alice/feed.xml", Header: map[string]string{"If-None-Match": etag}})
		wantStatus(t, again, http.StatusNotModified)
		// A new post changes the feed, and the ETag with it.
		write(t, alice, "Alice again", "The newest post by alice.")
		changed := anon.Do(t, apptest.Request{Path: "/u/alice/feed.xml", Header: map[string]string{"If-None-Match": etag}})
		wantStatus(t, changed, http.StatusOK)
		wantShown(t, changed, "alice's feed", "Alice again")
	})
}
