package atom

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	atomparser "github.com/mmcdole/gofeed/atom"
)

var (
	t0 = time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	t1 = time.Date(2026, 11, 2, 10, 0, 5, 0, time.FixedZone("CET", 3600))
)

// hostile is text a stranger could put in a title or a name: markup, XML
// syntax, characters XML cannot carry at all, and bytes that are not UTF-8.
var hostile = []string{
	`<script>alert(1)</script>`,
	`]]><x/><![CDATA[`,
	`Tom &amp; Jerry & "friends" 'too'`,
	"bell\x07 vertical\x0btab nul\x00 esc\x1b del\x7f",
	"bad \xff\xfe utf-8",
	"noncharacters \uFFFE\uFFFF",
	"right-to-left \u202Egnp.exe and emoji 🎉",
	"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;",
}

func sampleFeed() *Feed {
	f := &Feed{
		Title:    "A blog & <its> \"title\"",
		Subtitle: "Notes",
		SiteURL:  "https://blog.example/",
		FeedURL:  "https://blog.example/feed.xml",
		ID:       TagURI("blog.example", t0, "feed"),
	}
	for i, title := range hostile {
		f.Entries = append(f.Entries, Entry{
			ID:          TagURI("blog.example", t0, "post/"+string(rune('a'+i))),
			Title:       title,
			Author:      Person{Name: "alice " + title, URI: "https://blog.example/u/alice"},
			Published:   t0,
			Updated:     t1.Add(time.Duration(i) * time.Minute),
			Link:        "https://blog.example/post/" + string(rune('a'+i)),
			ContentHTML: `<p>Hello <strong>world</strong> ` + title + `</p>`,
		})
	}
	f.Entries = append(f.Entries, Entry{
		ID:          "urn:uuid:8c1b8a9e-6f5e-4a43-9c55-2d1c3a4b5e6f",
		Title:       "No published time",
		Author:      Person{Name: "bob"},
		Updated:     t0,
		Link:        "https://blog.example/post/z",
		ContentHTML: "<p>x</p>",
	})
	return f
}

// xmlClean is what a title should read as after a trip through XML and a
// feed reader: xmlChars, and surrounding space trimmed.
func xmlClean(s string) string {
	return strings.TrimSpace(xmlChars(s))
}

func marshal(t *testing.T, f *Feed) []byte {
	t.Helper()
	doc, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSchema validates feeds against the RELAX NG schema of RFC 4287 with
// jing, and checks the two rules the schema states as Schematron, which
// jing does not check.
func TestSchema(t *testing.T) {
	jing, err := exec.LookPath("jing")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("jing is not installed; CI installs it (apt-get install jing)")
		}
		t.Skip("jing is not installed (apt-get install jing): the feed is not validated against RFC 4287's schema")
	}
	one := sampleFeed()
	one.Entries = one.Entries[:1]
	feedAuthor := sampleFeed()
	feedAuthor.Author = &Person{Name: "The site", URI: "https://blog.example/"}
	feedAuthor.Entries[0].Author = Person{}
	feeds := map[string]*Feed{
		"sample":      sampleFeed(),
		"one-entry":   one,
		"feed-author": feedAuthor,
		"empty":       {Title: "", SiteURL: "http://127.0.0.1:3000/", FeedURL: "http://127.0.0.1:3000/feed.xml"},
	}
	// One jing run for all the files: it starts a JVM each time.
	dir := t.TempDir()
	args := []string{"-c", "testdata/rfc4287.rnc"}
	docs := map[string][]byte{}
	for name, f := range feeds {
		doc := marshal(t, f)
		path := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
		docs[name] = doc
	}
	if out, err := exec.Command(jing, args...).CombinedOutput(); err != nil {
		t.Fatalf("jing: %v\n%s", err, out)
	}
	for name, doc := range docs {
		parsed, err := (&atomparser.Parser{}).Parse(bytes.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, e := range parsed.Entries {
			if len(e.Authors) == 0 && len(parsed.Authors) == 0 {
				t.Errorf("%s: entry %d has no author, nor has the feed", name, i)
			}
			alternate := false
			for _, l := range e.Links {
				alternate = alternate || l.Rel == "alternate" || l.Rel == ""
			}
			if !alternate && e.Content == nil {
				t.Errorf("%s: entry %d has neither an alternate link nor content", name, i)
			}
		}
	}
}

// TestRoundTrip parses the feed with gofeed, a feed reader's library, and
// finds every field as it was given, hostile text included.
func TestRoundTrip(t *testing.T) {
	f := sampleFeed()
	doc := marshal(t, f)
	if !utf8.Valid(doc) {
		t.Fatal("document is not UTF-8")
	}
	if typ := gofeed.DetectFeedType(bytes.NewReader(doc)); typ != gofeed.FeedTypeAtom {
		t.Fatalf("detected as %v", typ)
	}
	p, err := (&atomparser.Parser{}).Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != f.Title || p.Subtitle != f.Subtitle || p.ID != f.ID {
		t.Errorf("feed title, subtitle, id = %q, %q, %q", p.Title, p.Subtitle, p.ID)
	}
	if p.UpdatedParsed == nil || !p.UpdatedParsed.Equal(f.LastModified()) {
		t.Errorf("feed updated = %v, want %v", p.UpdatedParsed, f.LastModified())
	}
	links := map[string]string{}
	for _, l := range p.Links {
		links[l.Rel] = l.Href
	}
	if links["alternate"] != f.SiteURL || links["self"] != f.FeedURL {
		t.Errorf("feed links = %v", links)
	}
	if len(p.Entries) != len(f.Entries) {
		t.Fatalf("%d entries, want %d", len(p.Entries), len(f.Entries))
	}
	for i, want := range f.Entries {
		got := p.Entries[i]
		t.Run(want.ID, func(t *testing.T) {
			if got.ID != want.ID {
				t.Errorf("id = %q", got.ID)
			}
			if w := xmlClean(want.Title); got.Title != w {
				t.Errorf("title = %q, want %q", got.Title, w)
			}
			if len(got.Authors) != 1 || got.Authors[0].Name != xmlClean(want.Author.Name) || got.Authors[0].URI != want.Author.URI {
				t.Errorf("authors = %+v", got.Authors)
			}
			if got.UpdatedParsed == nil || !got.UpdatedParsed.Equal(want.Updated) {
				t.Errorf("updated = %v, want %v", got.UpdatedParsed, want.Updated)
			}
			if want.Published.IsZero() {
				if got.Published != "" {
					t.Errorf("published = %q, want none", got.Published)
				}
			} else if got.PublishedParsed == nil || !got.PublishedParsed.Equal(want.Published) {
				t.Errorf("published = %v, want %v", got.PublishedParsed, want.Published)
			}
			if len(got.Links) != 1 || got.Links[0].Href != want.Link || got.Links[0].Rel != "alternate" {
				t.Errorf("links = %+v", got.Links)
			}
			if got.Content == nil || got.Content.Type != "html" {
				t.Fatalf("content = %+v", got.Content)
			}
			// The HTML arrives as HTML (a reader then sanitises and shows
			// it), never as markup of the feed itself.
			if w := xmlClean(want.ContentHTML); got.Content.Value != w {
				t.Errorf("content = %q, want %q", got.Content.Value, w)
			}
		})
	}
	// No hostile title became markup of the feed: the only elements are
	// Atom's own.
	for _, tag := range []string{"<script", "<x/>", "<![CDATA[", "<!DOCTYPE", "<!ENTITY"} {
		if bytes.Contains(doc, []byte(tag)) {
			t.Errorf("document contains %q", tag)
		}
	}
}

func TestTagURI(t *testing.T) {
	for _, tc := range []struct {
		host     string
		date     time.Time
		specific string
		want     string
	}{
		{"blog.example", t0, "post/42", "tag:blog.example,2026-11-01:post/42"},
		{"Blog.Example", t1, "feed", "tag:blog.example,2026-11-02:feed"},
		{"blog.example", t0, "u/al ice#1/feed", "tag:blog.example,2026-11-01:u/al%20ice%231/feed"},
	} {
		if got := TagURI(tc.host, tc.date, tc.specific); got != tc.want {
			t.Errorf("TagURI(%q, %v, %q) = %q, want %q", tc.host, tc.date, tc.specific, got, tc.want)
		}
	}
}

// TestInvalidFeed: a caller's mistake is an error and no document, never
// a feed that readers would reject or misread.
func TestInvalidFeed(t *testing.T) {
	for name, mutate := range map[string]func(f *Feed){
		"RelativeSiteURL":   func(f *Feed) { f.SiteURL = "/" },
		"RelativeFeedURL":   func(f *Feed) { f.FeedURL = "feed.xml" },
		"JavascriptURL":     func(f *Feed) { f.SiteURL = "javascript:alert(1)" },
		"NoFeedID":          func(f *Feed) { f.ID, f.FeedURL = "", "" },
		"FeedIDWithSpace":   func(f *Feed) { f.ID = "tag:blog.example,2026:a b" },
		"EntryIDMissing":    func(f *Feed) { f.Entries[0].ID = "" },
		"EntryIDRelative":   func(f *Feed) { f.Entries[0].ID = "/post/1" },
		"EntryLinkRelative": func(f *Feed) { f.Entries[0].Link = "/post/1" },
		"EntryNoAuthor":     func(f *Feed) { f.Entries[0].Author = Person{} },
		"AuthorURIRelative": func(f *Feed) { f.Entries[0].Author.URI = "/u/alice" },
		"EntryNoUpdated":    func(f *Feed) { f.Entries[0].Updated = time.Time{} },
		"YearOutOfRange":    func(f *Feed) { f.Entries[0].Updated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		t.Run(name, func(t *testing.T) {
			f := sampleFeed()
			mutate(f)
			doc, err := Marshal(f)
			if err == nil || doc != nil {
				t.Fatalf("Marshal = %d bytes, %v; want an error", len(doc), err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, f); err == nil || buf.Len() != 0 {
				t.Fatalf("Write wrote %d bytes, %v", buf.Len(), err)
			}
			rec := httptest.NewRecorder()
			if err := Serve(rec, httptest.NewRequest(http.MethodGet, "/feed.xml", nil), f); err == nil || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
				t.Fatalf("Serve wrote %d bytes, headers %v, %v", rec.Body.Len(), rec.Header(), err)
			}
		})
	}
	t.Run("FeedAuthorCoversEntries", func(t *testing.T) {
		f := sampleFeed()
		f.Author = &Person{Name: "site"}
		f.Entries[0].Author = Person{}
		if _, err := Marshal(f); err != nil {
			t.Fatal(err)
		}
	})
}

// TestServe: the feed carries validators, and a reader that sends them
// back gets 304 until something changes.
func TestServe(t *testing.T) {
	get := func(f *Feed, h http.Header) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "https://blog.example/feed.xml", nil)
		for k, v := range h {
			r.Header[k] = v
		}
		rec := httptest.NewRecorder()
		if err := Serve(rec, r, f); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	f := sampleFeed()
	first := get(f, nil)
	if first.Code != http.StatusOK || first.Header().Get("Content-Type") != ContentType {
		t.Fatalf("status %d, Content-Type %q", first.Code, first.Header().Get("Content-Type"))
	}
	etag, lastMod := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || etag != ETag(first.Body.Bytes()) {
		t.Fatalf("ETag %q for the body", etag)
	}
	if want := f.LastModified().UTC().Format(http.TimeFormat); lastMod != want {
		t.Fatalf("Last-Modified %q, want %q", lastMod, want)
	}
	if r := get(f, http.Header{"If-None-Match": {etag}}); r.Code != http.StatusNotModified || r.Body.Len() != 0 {
		t.Fatalf("If-None-Match: status %d, %d bytes", r.Code, r.Body.Len())
	}
	if r := get(f, http.Header{"If-Modified-Since": {lastMod}}); r.Code != http.StatusNotModified {
		t.Fatalf("If-Modified-Since: status %d", r.Code)
	}

	// A change that leaves every ID and time alone (the site's title)
	// still changes the ETag.
	f.Title = "Renamed"
	if r := get(f, http.Header{"If-None-Match": {etag}}); r.Code != http.StatusOK || r.Header().Get("ETag") == etag {
		t.Fatalf("after a change: status %d, ETag %q", r.Code, r.Header().Get("ETag"))
	}
	// An edited post, with a later Updated, is newer than the reader's copy.
	f.Entries[0].Updated = t1.Add(time.Hour)
	if r := get(f, http.Header{"If-Modified-Since": {lastMod}}); r.Code != http.StatusOK {
		t.Fatalf("after an edit: status %d", r.Code)
	}
}

func TestLastModified(t *testing.T) {
	f := &Feed{}
	if !f.LastModified().IsZero() {
		t.Fatal("empty feed has a time")
	}
	f.Updated = t0
	f.Entries = []Entry{{Updated: t0.Add(-time.Hour)}, {Updated: t1}, {Updated: t0}}
	if got := f.LastModified(); !got.Equal(t1) {
		t.Fatalf("LastModified = %v, want %v", got, t1)
	}
}

// TestContentSize checks that ContentSize is exactly what an entry's
// content takes in the document, escapes and replaced characters
// included, so that a caller's size budget holds.
func TestContentSize(t *testing.T) {
	for _, html := range []string{"", "plain", "<p>a & b</p>\n", "\"quotes\" 'and' \t tabs\r\n", "bad \xff utf-8 \x01 control", strings.Repeat("<\n", 1000)} {
		f := sampleFeed()
		f.Entries = f.Entries[:1]
		f.Entries[0].ContentHTML = "\x00" // placeholder, measured below
		without := len(marshal(t, f))
		f.Entries[0].ContentHTML = html
		with := len(marshal(t, f))
		if got, want := ContentSize(html), with-without+ContentSize("\x00"); got != want {
			t.Errorf("ContentSize(%q) = %d, the document grew by %d", html, got, want)
		}
	}
}
