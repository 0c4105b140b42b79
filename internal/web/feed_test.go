package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/web"
)

// hostileTitle would be markup, a CDATA end and an entity if any of it
// reached the feed unescaped.
const hostileTitle = `</title><script>alert(1)</script> ]]> &amp; "q" 'a'`

// feedRequest is what a feed reader sends.
func feedRequest(path string, header map[string]string) apptest.Request {
	h := map[string]string{"Accept": "application/atom+xml, application/xml;q=0.9, */*;q=0.1"}
	for k, v := range header {
		h[k] = v
	}
	return apptest.Request{Path: path, Header: h}
}

// validateAtom checks doc against RFC 4287's RELAX NG schema with jing,
// as internal/atom's own test does.
func validateAtom(t *testing.T, doc []byte) {
	t.Helper()
	jing, err := exec.LookPath("jing")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("jing is not installed; CI installs it (apt-get install jing)")
		}
		t.Log("jing is not installed (apt-get install jing): the served feed is not validated against RFC 4287's schema")
		return
	}
	path := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(jing, "-c", "../atom/testdata/rfc4287.rnc", path).CombinedOutput(); err != nil {
		t.Fatalf("jing: %v\n%s\n%s", err, out, doc)
	}
}

func TestFeed(t *testing.T) { apptest.ForEachStore(t, testFeed) }

func testFeed(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	base := srv.Config.BaseURL.Scheme + "://" + srv.Config.BaseURL.Host
	reader := newClient(t, srv)

	t.Run("Empty", func(t *testing.T) {
		p := reader.Do(t, feedRequest("/feed.xml", nil)).Want(t, http.StatusOK)
		validateAtom(t, p.Body)
		f, err := gofeed.NewParser().Parse(bytes.NewReader(p.Body))
		if err != nil {
			t.Fatal(err)
		}
		if f.Title != "Palisade" || len(f.Items) != 0 {
			t.Errorf("empty feed: title %q, %d entries", f.Title, len(f.Items))
		}
	})

	b := newClient(t, srv)
	register(t, b, "alice")
	first := write(t, b, "An ordinary first post", "Nothing to see here, just words.")
	id := write(t, b, hostileTitle, "Some <script>alert(2)</script> text and ![a red door](https://tracker.example/p.gif).")
	if err := srv.Store.SetSettings(t.Context(), blog.Settings{Title: "Mallory's <b>blog</b> & co", Description: "]]> <i>x</i>"}); err != nil {
		t.Fatal(err)
	}
	// Pages and feeds read the settings through a cache that another
	// writer's change reaches within sitesettings.MaxAge; a rebuilt
	// application reads them at once.
	srv.SwapStore(t, srv.Store)

	p := reader.Do(t, feedRequest("/feed.xml", nil)).Want(t, http.StatusOK)
	t.Run("Headers", func(t *testing.T) {
		for name, want := range map[string]string{
			"Content-Type":            "application/atom+xml; charset=utf-8",
			"Content-Security-Policy": httpsec.APICSP, // a document, not a page: nothing in it may load or run
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
		} {
			if got := p.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		for _, name := range []string{"ETag", "Last-Modified", "RateLimit", "RateLimit-Policy"} {
			if p.Header.Get(name) == "" {
				t.Errorf("no %s header", name)
			}
		}
		if c := p.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("the feed sets cookies: %q", c)
		}
	})
	t.Run("Valid", func(t *testing.T) { validateAtom(t, p.Body) })
	t.Run("HostileTextStaysText", func(t *testing.T) {
		for _, bad := range []string{"<script", "<b>", "<i>", "</title><"} {
			if bytes.Contains(p.Body, []byte(bad)) {
				t.Errorf("the feed contains %q unescaped:\n%s", bad, p.Body)
			}
		}
		f, err := gofeed.NewParser().Parse(bytes.NewReader(p.Body))
		if err != nil {
			t.Fatal(err)
		}
		if f.Title != "Mallory's <b>blog</b> & co" || f.Description != "]]> <i>x</i>" {
			t.Errorf("feed title %q, subtitle %q: not the site's settings as written", f.Title, f.Description)
		}
		if len(f.Items) != 2 {
			t.Fatalf("%d entries, want 2", len(f.Items))
		}
		e := f.Items[0]
		if e.Title != hostileTitle {
			t.Errorf("entry title %q, want %q", e.Title, hostileTitle)
		}
		if e.Link != base+"/post/"+id {
			t.Errorf("entry link %q, want %q", e.Link, base+"/post/"+id)
		}
		if e.Author == nil || e.Author.Name != "alice" {
			t.Errorf("entry author %+v, want alice", e.Author)
		}
		if strings.Contains(e.Content, "<script") || !strings.Contains(e.Content, "&lt;script&gt;alert(2)") {
			t.Errorf("entry content is not the sanitised HTML with the script as text: %q", e.Content)
		}
		if !strings.Contains(e.Content, `<span class="md-image">[image: a red door`) || strings.Contains(e.Content, "tracker.example") {
			t.Errorf("entry content shows the image or its address: %q", e.Content)
		}
		if f.Items[1].Link != base+"/post/"+first {
			t.Errorf("second entry is %q, want the first post", f.Items[1].Link)
		}
	})
	t.Run("AuthorURI", func(t *testing.T) {
		// gofeed keeps only the author's name; the URI is read here.
		if want := "<uri>" + base + "/u/alice</uri>"; !bytes.Contains(p.Body, []byte(want)) {
			t.Errorf("the feed has no %s", want)
		}
	})

	etag, modified := p.Header.Get("ETag"), p.Header.Get("Last-Modified")
	t.Run("NotModified", func(t *testing.T) {
		for name, h := range map[string]map[string]string{
			"IfNoneMatch":     {"If-None-Match": etag},
			"IfModifiedSince": {"If-Modified-Since": modified},
		} {
			t.Run(name, func(t *testing.T) {
				p := reader.Do(t, feedRequest("/feed.xml", h)).Want(t, http.StatusNotModified)
				if len(p.Body) != 0 {
					t.Errorf("a 304 with a body: %q", p.Body)
				}
				if p.Header.Get("ETag") != etag {
					t.Errorf("304's ETag %q, want %q", p.Header.Get("ETag"), etag)
				}
			})
		}
		reader.Do(t, feedRequest("/feed.xml", map[string]string{"If-None-Match": `"stale"`})).Want(t, http.StatusOK)
	})
	t.Run("ChangedAfterEdit", func(t *testing.T) {
		p := b.Submit(t, "/post/"+first+"/edit", "/post/"+first+"/edit", url.Values{"title": {"An edited first post"}, "content": {"Nothing to see here, just other words."}})
		wantStatus(t, p, http.StatusSeeOther)
		p = reader.Do(t, feedRequest("/feed.xml", map[string]string{"If-None-Match": etag})).Want(t, http.StatusOK)
		if p.Header.Get("ETag") == etag {
			t.Error("the ETag did not change with an edited post")
		}
		if !bytes.Contains(p.Body, []byte("An edited first post")) {
			t.Error("the feed does not show the edit")
		}
	})
	t.Run("Head", func(t *testing.T) {
		p := reader.Do(t, apptest.Request{Method: http.MethodHead, Path: "/feed.xml"}).Want(t, http.StatusOK)
		if len(p.Body) != 0 || p.Header.Get("ETag") == "" {
			t.Errorf("HEAD: body %d bytes, ETag %q", len(p.Body), p.Header.Get("ETag"))
		}
	})
}

// TestFeedSize checks that the feed carries the newest FeedEntries posts,
// in the home page's order, and that posts past its size budget keep
// their entry but carry a note instead of their content.
func TestFeedSize(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	u, err := srv.Store.UserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	// 900 KiB of HTML each (the renderer allows 1 MiB): the three newest
	// posts take 2.7 MiB, more than the feed's 2 MiB.
	big := "<p>" + strings.Repeat("x", 900<<10) + "</p>"
	for i := range web.FeedEntries + 3 {
		html := "<p>Some content.</p>"
		if i >= web.FeedEntries {
			html = big
		}
		if _, err := srv.Store.CreatePost(t.Context(), blog.NewPost{AuthorID: u.ID, Title: fmt.Sprintf("Post number %d", i), Content: "Some content.", ContentHTML: html}); err != nil {
			t.Fatal(err)
		}
	}
	p := newClient(t, srv).Do(t, feedRequest("/feed.xml", nil)).Want(t, http.StatusOK)
	if len(p.Body) > 3<<20 {
		t.Errorf("the feed is %d bytes", len(p.Body))
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	posts, _, err := srv.Store.ListPosts(t.Context(), blog.Page{Limit: web.FeedEntries})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != web.FeedEntries {
		t.Fatalf("%d entries, want %d", len(f.Items), web.FeedEntries)
	}
	tooLarge := 0
	for i, e := range f.Items {
		if e.Title != posts[i].Title {
			t.Errorf("entry %d is %q, want %q", i, e.Title, posts[i].Title)
		}
		if strings.Contains(e.Content, "too large to show in the feed") {
			tooLarge++
			if posts[i].ContentHTML != big {
				t.Errorf("entry %d (%q), a small post, was left out", i, e.Title)
			}
		} else if e.Content != posts[i].ContentHTML {
			t.Errorf("entry %d (%q) has other content than the post", i, e.Title)
		}
	}
	if tooLarge != 1 {
		t.Errorf("%d posts left out of the feed, want 1 (the third 900 KiB one)", tooLarge)
	}
}

// TestFeedLinkedFromEveryPage checks the <link rel="alternate"> that lets
// a browser or reader find the feed from any page.
func TestFeedLinkedFromEveryPage(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newClient(t, srv)
	const link = `<link rel="alternate" type="application/atom+xml" href="/feed.xml" title="All posts (Atom feed)">`
	for _, path := range []string{"/", "/login", "/register", "/no-such-page"} {
		if p := b.Page(t, path); !strings.Contains(p.Text(), link) {
			t.Errorf("%s has no feed link", path)
		}
	}
	register(t, b, "alice")
	id := write(t, b, "A post", "Some content here.")
	for _, path := range []string{"/", "/post/" + id, "/write", "/post/" + id + "/edit", "/post/" + id + "/delete", "/u/alice"} {
		if p := b.Page(t, path); !strings.Contains(p.Text(), link) {
			t.Errorf("%s has no feed link", path)
		}
	}

	// An author's page also links to that author's own feed, and only
	// that page does.
	const authorLink = `<link rel="alternate" type="application/atom+xml" href="/u/alice/feed.xml" title="Posts by alice (Atom feed)">`
	if p := newClient(t, srv).Page(t, "/u/alice"); !strings.Contains(p.Text(), authorLink) {
		t.Errorf("/u/alice has no link to alice's feed:\n%s", p.Text())
	}
	for _, path := range []string{"/", "/post/" + id} {
		if p := b.Page(t, path); strings.Contains(p.Text(), `href="/u/alice/feed.xml"`) {
			t.Errorf("%s links to alice's feed", path)
		}
	}
	b.Page(t, "/u/alice/feed.xml").Want(t, http.StatusOK)
}
