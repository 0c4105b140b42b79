package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/markdown"
)

// hugePosts is a store whose every author has page.Limit published posts
// of the largest HTML the renderer makes, all of it characters that XML
// escaping makes longest ('<' and newlines), and which counts its reads.
type hugePosts struct {
	blog.Store // nil: only ListPosts and UserByUsername are called
	lists      atomic.Int64
	lookups    atomic.Int64
}

// hugeHTML is markdown.MaxHTMLBytes of HTML that escapes to five times
// its length.
var hugeHTML = strings.Repeat("<\n", markdown.MaxHTMLBytes/2)

func (s *hugePosts) ListPosts(_ context.Context, page blog.Page) ([]blog.Post, *blog.Cursor, error) {
	s.lists.Add(1)
	posts := make([]blog.Post, page.Size())
	t := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for i := range posts {
		posts[i] = blog.Post{
			ID: fmt.Sprint(i), Title: strings.Repeat("<", 200), ContentHTML: hugeHTML,
			Author:    blog.Author{Username: "alice"},
			CreatedAt: t, UpdatedAt: t, PublishedAt: blog.NullTime{Time: t},
		}
	}
	return posts, nil, nil
}

func (s *hugePosts) UserByUsername(_ context.Context, name string) (blog.User, error) {
	s.lookups.Add(1)
	if !strings.EqualFold(name, "alice") { // usernames compare case-insensitively
		return blog.User{}, blog.ErrUserNotFound
	}
	return blog.User{ID: "a1", Username: "alice", CreatedAt: time.Unix(1_700_000_000, 0)}, nil
}

// TestFeedBoundedAndBuiltOncePerPeriod: with the newest posts all of the
// largest size, each feed stays within its content budget plus a little
// for the entries' other fields, counted as sent (escaped); and many
// requests within feedTTL, at once or one after another, conditional or
// not, cost one build: one read of the posts.
func TestFeedBoundedAndBuiltOncePerPeriod(t *testing.T) {
	for _, path := range []string{"/feed.xml", "/u/alice/feed.xml"} {
		t.Run(path, func(t *testing.T) {
			d := newPageDeps(t)
			store := &hugePosts{}
			d.Store = store
			h := d.handleFeed()
			if path != "/feed.xml" {
				mux := http.NewServeMux()
				mux.Handle("GET /u/{username}/feed.xml", d.handleAuthorFeed())
				h = mux
			}
			get := func(header http.Header) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodGet, path, nil)
				for k, v := range header {
					r.Header[k] = v
				}
				h.ServeHTTP(w, r)
				return w
			}

			var wg sync.WaitGroup
			var sizes [8]int
			for i := range sizes {
				wg.Go(func() {
					w := get(nil)
					if w.Code != http.StatusOK {
						t.Errorf("status %d", w.Code)
					}
					sizes[i] = w.Body.Len()
				})
			}
			wg.Wait()
			first := get(nil)
			// 20 entries' titles, links and dates take some kilobytes.
			if n := first.Body.Len(); n > feedContentBytes+64<<10 {
				t.Errorf("the feed is %d bytes, over its %d-byte budget", n, feedContentBytes)
			}
			if !strings.Contains(first.Body.String(), "too large to show in the feed") {
				t.Error("no post was left out of an oversized feed")
			}
			for i, n := range sizes {
				if n != first.Body.Len() {
					t.Errorf("request %d got %d bytes, want the same %d", i, n, first.Body.Len())
				}
			}
			etag := first.Header().Get("ETag")
			for range 10 {
				if w := get(http.Header{"If-None-Match": {etag}}); w.Code != http.StatusNotModified {
					t.Fatalf("conditional request: status %d, want 304", w.Code)
				}
			}
			if n := store.lists.Load(); n != 1 {
				t.Errorf("%d reads of the posts for 19 requests within %s, want 1", n, feedTTL)
			}
			if path != "/feed.xml" {
				if n := store.lookups.Load(); n != 1 {
					t.Errorf("%d lookups of the author for 19 requests, want 1", n)
				}
			}
		})
	}
}

// TestAuthorFeedCacheBounded: feeds of unknown authors take no room, and
// however many authors are asked for, at most maxAuthorFeeds feeds are
// kept.
func TestAuthorFeedCacheBounded(t *testing.T) {
	d := newPageDeps(t)
	d.Store = &hugePosts{}
	mux := http.NewServeMux()
	mux.Handle("GET /u/{username}/feed.xml", d.handleAuthorFeed())
	for i := range 3 * maxAuthorFeeds {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/u/nobody%d/feed.xml", i), nil))
		if w.Code != http.StatusNotFound {
			t.Fatalf("status %d, want 404", w.Code)
		}
	}
	if n := len(d.authorFeeds.entries); n != 0 {
		t.Errorf("%d entries kept for unknown authors, want 0", n)
	}

	c := newDocCache(time.Hour, 4)
	for i := range 10 {
		if _, err := c.get(fmt.Sprint(i), func() ([]byte, time.Time, error) { return []byte("doc"), time.Time{}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.entries); n != 4 {
		t.Errorf("%d documents kept, want 4", n)
	}
	if _, ok := c.entries["9"]; !ok {
		t.Error("the newest document was evicted")
	}
}

// TestAuthorFeedOneEntryPerAuthor: spellings of one username share one
// cached feed and one build, so an anonymous client can't fill the cache
// (or force builds) by varying the case of a name.
func TestAuthorFeedOneEntryPerAuthor(t *testing.T) {
	d := newPageDeps(t)
	store := &hugePosts{}
	d.Store = store
	mux := http.NewServeMux()
	mux.Handle("GET /u/{username}/feed.xml", d.handleAuthorFeed())
	for _, name := range []string{"alice", "Alice", "aLICE", "ALICE", "alicE"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/u/"+name+"/feed.xml", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", name, w.Code)
		}
	}
	if n, l := len(d.authorFeeds.entries), store.lists.Load(); n != 1 || l != 1 {
		t.Errorf("%d cache entries and %d post reads for five spellings of one name, want 1 and 1", n, l)
	}
	// A name no account can have is refused before the cache or the store.
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/u/"+strings.Repeat("x", 200)+"/feed.xml", nil))
	if w.Code != http.StatusNotFound || store.lookups.Load() != 1 {
		t.Errorf("an impossible name: status %d after %d look-ups, want 404 after 1", w.Code, store.lookups.Load())
	}
}
