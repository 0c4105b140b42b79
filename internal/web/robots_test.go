package web_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestSitemapAndRobots fetches what a crawler fetches: robots.txt, then
// the sitemap it names, which lists the home page, every published post
// and the page of every author who has published one.
func TestSitemapAndRobots(t *testing.T) {
	srv := apptest.Start(t, nil)
	base := srv.Config.BaseURL.Scheme + "://" + srv.Config.BaseURL.Host
	b := newClient(t, srv)
	register(t, b, "alice")
	first := write(t, b, "The first post", "Some content to index.")
	second := write(t, b, "The second post", "More content to index.")
	// Neither an author with no post nor one with only a draft is listed.
	register(t, newClient(t, srv), "nobody_yet")
	drafter := newClient(t, srv)
	register(t, drafter, "drafter")
	wantStatus(t, drafter.Submit(t, "/write", "/write", url.Values{"title": {"Not yet"}, "content": {"Unpublished."}, "status": {"draft"}}), http.StatusSeeOther)
	crawler := newClient(t, srv)

	robots := crawler.Do(t, apptest.Request{Path: "/robots.txt", Header: map[string]string{"Accept": "text/plain"}}).Want(t, http.StatusOK)
	if ct := robots.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("robots.txt Content-Type %q", ct)
	}
	for _, line := range []string{"User-agent: *", "Disallow: /login", "Disallow: /write", "Sitemap: " + base + "/sitemap.xml"} {
		if !strings.Contains(robots.Text(), line+"\n") {
			t.Errorf("robots.txt has no line %q:\n%s", line, robots.Text())
		}
	}

	p := crawler.Do(t, apptest.Request{Path: "/sitemap.xml", Header: map[string]string{"Accept": "application/xml"}}).Want(t, http.StatusOK)
	for name, want := range map[string]string{"Content-Type": "application/xml; charset=utf-8", "X-Content-Type-Options": "nosniff"} {
		if got := p.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if c := p.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("the sitemap sets cookies: %q", c)
	}
	var set struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(p.Body, &set); err != nil {
		t.Fatalf("%v\n%s", err, p.Body)
	}
	var locs []string
	for _, u := range set.URLs {
		locs = append(locs, u.Loc)
		if u.LastMod == "" {
			t.Errorf("%s has no lastmod", u.Loc)
		}
	}
	if want := []string{base + "/", base + "/post/" + second, base + "/post/" + first, base + "/u/alice"}; strings.Join(locs, " ") != strings.Join(want, " ") {
		t.Errorf("sitemap lists %q, want %q", locs, want)
	}
	crawler.Do(t, apptest.Request{Path: "/sitemap.xml", Header: map[string]string{"If-None-Match": p.Header.Get("ETag")}}).Want(t, http.StatusNotModified)
}
