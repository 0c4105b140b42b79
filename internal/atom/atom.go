// Package atom writes Atom feeds (RFC 4287) of a blog's posts, and serves
// them with validators so that feed readers, which poll, mostly get 304s.
//
// A handler builds a [Feed] from the newest published posts (already
// rendered to sanitised HTML) and calls [Serve]:
//
//	f := &atom.Feed{
//		Title:   site.Title,
//		SiteURL: base + "/",
//		FeedURL: base + "/feed.xml",
//		ID:      atom.TagURI(host, site.Created, "feed"),
//	}
//	for _, p := range posts {
//		f.Entries = append(f.Entries, atom.Entry{
//			ID:          atom.TagURI(host, p.CreatedAt, "post/"+p.ID),
//			Title:       p.Title,
//			Author:      atom.Person{Name: p.Author, URI: base + "/u/" + p.Author},
//			Published:   p.PublishedAt,
//			Updated:     p.UpdatedAt,
//			Link:        base + "/post/" + p.ID,
//			ContentHTML: p.ContentHTML,
//		})
//	}
//	if err := atom.Serve(w, r, f); err != nil { … a 500, nothing was written … }
//
// Serve builds the document on every request. A server whose feeds anyone
// may fetch should build with Marshal once per period and serve the bytes
// (the website does, in internal/web's document cache), so that a flood of
// readers costs one build.
//
// It is written with encoding/xml: the format is a dozen elements, and
// encoding/xml already escapes text and replaces the characters XML cannot
// carry (control characters, invalid UTF-8), which is the part that
// matters when titles come from strangers.
package atom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ContentType is the media type of an Atom feed document.
const ContentType = "application/atom+xml; charset=utf-8"

// Feed is one feed document: the site's (or one author's) newest entries.
type Feed struct {
	// Title is the site's title; Subtitle, optional, its description.
	Title, Subtitle string
	// SiteURL is the absolute URL of the page the feed mirrors (the home
	// page, or the author's page): the feed's alternate link.
	SiteURL string
	// FeedURL is the absolute URL the feed is served at: its self link.
	FeedURL string
	// ID is the feed's permanent identifier, an absolute URI such as a
	// tag: URI from TagURI; empty means FeedURL, which changes if the site
	// moves.
	ID string
	// Author, optional, is the feed's author; it is required only when an
	// entry has none.
	Author *Person
	// Updated, optional, is when the feed's own fields last changed (the
	// site's title, say). The feed's updated time is the latest of this
	// and its entries' Updated.
	Updated time.Time
	// Entries, newest first.
	Entries []Entry
}

// Person is an author: a name and, optionally, the absolute URL of their
// page.
type Person struct {
	Name, URI string
}

// Entry is one post.
type Entry struct {
	// ID is the entry's permanent identifier, an absolute URI that never
	// changes for this post: a tag: URI from TagURI, or "urn:uuid:…".
	ID    string
	Title string
	// Author is required unless the feed has one.
	Author Person
	// Published, optional (zero: left out), and Updated, required.
	Published, Updated time.Time
	// Link is the absolute URL of the post's page.
	Link string
	// ContentHTML is the post's sanitised HTML, as the site shows it; it
	// is sent as escaped text (type="html"), never as markup.
	ContentHTML string
}

// TagURI returns a tag: URI (RFC 4151) naming specific in the namespace of
// host on the given date, such as "tag:blog.example,2026-11-29:post/42".
// host is a domain name without port, and date a day on which the site
// owned it: keep both fixed for a given thing (the post's creation date,
// not its last edit), so that its ID never changes. Each "/"-separated
// part of specific is percent-encoded as a URL path segment.
func TagURI(host string, date time.Time, specific string) string {
	parts := strings.Split(specific, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "tag:" + strings.ToLower(host) + "," + date.UTC().Format(time.DateOnly) + ":" + strings.Join(parts, "/")
}

// LastModified is the feed's updated time: the latest of f.Updated and its
// entries' Updated, or the zero time when there are none.
func (f *Feed) LastModified() time.Time {
	t := f.Updated
	for i := range f.Entries {
		if f.Entries[i].Updated.After(t) {
			t = f.Entries[i].Updated
		}
	}
	return t
}

// Marshal returns the feed document, or an error naming the first field
// that would make it invalid (a relative URL, an entry without ID,
// author or updated time): mistakes of the caller, never of the content,
// whose text may be anything.
func Marshal(f *Feed) ([]byte, error) {
	doc, err := f.document()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("atom: encode: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// ETag returns a strong entity tag for a feed document made by Marshal: a
// hash of its bytes, so it changes whenever anything a reader gets does
// (an edited post, a renamed author, the site's title, a change in how
// Markdown is rendered), which a tag built from IDs and times would miss.
func ETag(doc []byte) string {
	sum := sha256.Sum256(doc)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// ContentSize is how many bytes html takes in a feed document as an
// entry's ContentHTML, once escaped as XML text: up to six times its own
// length (every '<' becomes "&lt;", every newline "&#xA;"). A caller that
// bounds a document's size counts this, not len(html).
func ContentSize(html string) int {
	var n byteCounter
	_ = xml.EscapeText(&n, []byte(html)) // byteCounter never fails
	return int(n)
}

// byteCounter is an io.Writer that counts what it is given.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// Serve writes f as the response to r with its Content-Type, ETag and
// Last-Modified, and lets http.ServeContent answer conditional requests
// (If-None-Match, If-Modified-Since) with 304 and HEAD without a body. If
// f is invalid it writes nothing and returns the error, for the caller to
// answer 500.
func Serve(w http.ResponseWriter, r *http.Request, f *Feed) error {
	doc, err := Marshal(f)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("ETag", ETag(doc))
	http.ServeContent(w, r, "", f.LastModified(), bytes.NewReader(doc))
	return nil
}

// Write writes the feed document to w; see Marshal.
func Write(w io.Writer, f *Feed) error {
	doc, err := Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(doc)
	return err
}

type xmlFeed struct {
	XMLName  xml.Name   `xml:"http://www.w3.org/2005/Atom feed"`
	ID       string     `xml:"id"`
	Title    xmlText    `xml:"title"`
	Subtitle *xmlText   `xml:"subtitle,omitempty"`
	Updated  string     `xml:"updated"`
	Links    []xmlLink  `xml:"link"`
	Author   *xmlPerson `xml:"author,omitempty"`
	Entries  []xmlEntry `xml:"entry"`
}

type xmlEntry struct {
	ID        string    `xml:"id"`
	Title     xmlText   `xml:"title"`
	Author    xmlPerson `xml:"author"`
	Published string    `xml:"published,omitempty"`
	Updated   string    `xml:"updated"`
	Link      xmlLink   `xml:"link"`
	Content   xmlText   `xml:"content"`
}

type xmlText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type xmlLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type xmlPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

// document checks f and builds the XML tree.
func (f *Feed) document() (*xmlFeed, error) {
	id := f.ID
	if id == "" {
		id = f.FeedURL
	}
	if err := checkURI("feed ID", id); err != nil {
		return nil, err
	}
	if err := checkURL("feed SiteURL", f.SiteURL); err != nil {
		return nil, err
	}
	if err := checkURL("feed FeedURL", f.FeedURL); err != nil {
		return nil, err
	}
	updated, err := date("feed updated time", f.LastModified(), true)
	if err != nil {
		return nil, err
	}
	doc := &xmlFeed{
		ID:      id,
		Title:   xmlText{Type: "text", Text: f.Title},
		Updated: updated,
		Links: []xmlLink{
			{Rel: "alternate", Type: "text/html", Href: f.SiteURL},
			{Rel: "self", Type: "application/atom+xml", Href: f.FeedURL},
		},
	}
	if f.Subtitle != "" {
		doc.Subtitle = &xmlText{Type: "text", Text: f.Subtitle}
	}
	if f.Author != nil {
		p, err := person("feed author", *f.Author)
		if err != nil {
			return nil, err
		}
		doc.Author = &p
	}
	for i := range f.Entries {
		e, err := f.entry(i)
		if err != nil {
			return nil, err
		}
		doc.Entries = append(doc.Entries, e)
	}
	return doc, nil
}

func (f *Feed) entry(i int) (xmlEntry, error) {
	e := &f.Entries[i]
	what := func(field string) string { return fmt.Sprintf("entry %d %s", i, field) }
	if err := checkURI(what("ID"), e.ID); err != nil {
		return xmlEntry{}, err
	}
	if err := checkURL(what("Link"), e.Link); err != nil {
		return xmlEntry{}, err
	}
	if e.Author.Name == "" && f.Author == nil {
		return xmlEntry{}, fmt.Errorf("atom: %s: no author, and the feed has none", what("Author"))
	}
	author, err := person(what("Author"), e.Author)
	if err != nil {
		return xmlEntry{}, err
	}
	published, err := date(what("Published"), e.Published, false)
	if err != nil {
		return xmlEntry{}, err
	}
	if e.Updated.IsZero() {
		return xmlEntry{}, fmt.Errorf("atom: %s: missing", what("Updated"))
	}
	updated, err := date(what("Updated"), e.Updated, true)
	if err != nil {
		return xmlEntry{}, err
	}
	return xmlEntry{
		ID:        e.ID,
		Title:     xmlText{Type: "text", Text: e.Title},
		Author:    author,
		Published: published,
		Updated:   updated,
		Link:      xmlLink{Rel: "alternate", Type: "text/html", Href: e.Link},
		Content:   xmlText{Type: "html", Text: e.ContentHTML},
	}, nil
}

func person(what string, p Person) (xmlPerson, error) {
	if p.URI != "" {
		if err := checkURL(what+" URI", p.URI); err != nil {
			return xmlPerson{}, err
		}
	}
	return xmlPerson(p), nil
}

// date formats t as RFC 3339 in UTC, the form of xsd:dateTime that Atom
// requires. A zero t is "" unless required, when it is the Unix epoch (a
// feed with no entries and no Updated has not changed since then).
func date(what string, t time.Time, required bool) (string, error) {
	if t.IsZero() {
		if !required {
			return "", nil
		}
		t = time.Unix(0, 0)
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return "", fmt.Errorf("atom: %s: year %d out of range", what, t.Year())
	}
	return t.Format(time.RFC3339), nil
}

var errNotAbsolute = errors.New("not an absolute URI")

// checkURI requires an absolute URI: a scheme, and no space or control
// character (which would make it a different URI once a reader trims or
// splits it).
func checkURI(what, s string) error {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("atom: %s %q: %w", what, s, errNotAbsolute)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("atom: %s %q: %w", what, s, errNotAbsolute)
	}
	return nil
}

// checkURL requires an absolute http or https URL with a host.
func checkURL(what, s string) error {
	if err := checkURI(what, s); err != nil {
		return err
	}
	u, _ := url.Parse(s) // parsed by checkURI
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("atom: %s %q: not an absolute http(s) URL", what, s)
	}
	return nil
}
