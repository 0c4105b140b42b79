package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sitemap"
)

// endlessPosts is a store with more posts than any sitemap may list: every
// page is full and has a next one. The posts are all by one author, or,
// with authorEach, each by an author of its own.
type endlessPosts struct {
	blog.Store // nil: only ListPosts is called
	calls      int
	authorEach bool
}

func (s *endlessPosts) ListPosts(_ context.Context, page blog.Page) ([]blog.Post, *blog.Cursor, error) {
	s.calls++
	posts := make([]blog.Post, page.Size())
	for i := range posts {
		n := s.calls*1000 + i
		author := blog.Author{ID: "a", Username: "endless"}
		if s.authorEach {
			author = blog.Author{ID: fmt.Sprint("a", n), Username: fmt.Sprint("author_", n)}
		}
		posts[i] = blog.Post{ID: fmt.Sprint(n), Author: author, UpdatedAt: time.Unix(int64(2_000_000_000-n), 0)}
	}
	return posts, blog.CursorAfter(posts[len(posts)-1]), nil
}

// sitemapLocs asks h for the sitemap and returns the URLs it lists.
func sitemapLocs(t *testing.T, h http.Handler) []string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sitemap.xml", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var set struct {
		URLs []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	locs := make([]string, len(set.URLs))
	for i, u := range set.URLs {
		locs[i] = u.Loc
	}
	return locs
}

// TestSitemapBounded checks that the sitemap stops at the protocol's
// 50,000 URLs however many posts there are, reading the store page by page
// and no further, and that a second request within sitemapTTL reuses it.
func TestSitemapBounded(t *testing.T) {
	d := newPageDeps(t)
	store := &endlessPosts{}
	d.Store = store
	h := d.handleSitemap()
	locs := sitemapLocs(t, h)
	if len(locs) != sitemap.MaxURLs {
		t.Errorf("%d URLs, want %d", len(locs), sitemap.MaxURLs)
	}
	if want := (sitemap.MaxURLs + blog.MaxPageLimit - 1) / blog.MaxPageLimit; store.calls != want {
		t.Errorf("%d pages read, want %d", store.calls, want)
	}
	if locs[0] != "http://127.0.0.1/" || locs[1] != "http://127.0.0.1/post/1000" {
		t.Errorf("sitemap starts %q, %q", locs[0], locs[1])
	}
	if last := locs[len(locs)-1]; last != "http://127.0.0.1/u/endless" {
		t.Errorf("sitemap ends %q, want the author's page", last)
	}
	calls := store.calls
	sitemapLocs(t, h)
	if store.calls != calls {
		t.Errorf("second request: %d more pages read", store.calls-calls)
	}
}

// TestSitemapBoundedWithAuthors: when every post has an author of its own,
// posts and author pages together stay within sitemap.MaxURLs, and the
// author of every post listed is listed.
func TestSitemapBoundedWithAuthors(t *testing.T) {
	d := newPageDeps(t)
	d.Store = &endlessPosts{authorEach: true}
	locs := sitemapLocs(t, d.handleSitemap())
	if len(locs) > sitemap.MaxURLs {
		t.Fatalf("%d URLs, more than %d", len(locs), sitemap.MaxURLs)
	}
	posts, authors := map[string]bool{}, map[string]bool{}
	for _, loc := range locs[1:] {
		if id, ok := strings.CutPrefix(loc, "http://127.0.0.1/post/"); ok {
			posts[id] = true
		} else if name, ok := strings.CutPrefix(loc, "http://127.0.0.1/u/author_"); ok {
			authors[name] = true
		} else {
			t.Fatalf("unexpected URL %q", loc)
		}
	}
	if len(posts) != len(authors) || len(posts)+len(authors)+1 < sitemap.MaxURLs-1 {
		t.Errorf("%d posts and %d authors listed, want as many of each as fit in %d URLs", len(posts), len(authors), sitemap.MaxURLs)
	}
	for id := range posts {
		if !authors[id] {
			t.Errorf("post %s is listed without its author", id)
		}
	}
}
