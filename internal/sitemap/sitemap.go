// Package sitemap writes what the site tells search engines: sitemap.xml
// (the sitemaps.org protocol 0.9), listing the public pages, and the body
// of robots.txt, which points to it and keeps crawlers off the pages that
// are only forms or private.
//
// A handler for GET /sitemap.xml lists the home page and every published
// post and author page, newest first, at most MaxURLs of them:
//
//	urls := []sitemap.URL{{Loc: base + "/", LastMod: newest}}
//	for _, p := range posts {
//		urls = append(urls, sitemap.URL{Loc: base + "/post/" + p.ID, LastMod: p.UpdatedAt})
//	}
//	doc, err := sitemap.Marshal(base, urls)
//	if err != nil { … a 500 … }
//	w.Header().Set("Content-Type", sitemap.ContentType)
//	_, _ = w.Write(doc)
//
// and GET /robots.txt serves Robots(base) as text/plain.
package sitemap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"time"
)

// ContentType is the media type of a sitemap.
const ContentType = "application/xml; charset=utf-8"

// Path is where the sitemap is served, and where robots.txt says it is.
const Path = "/sitemap.xml"

// The protocol's limits on one sitemap file. A site with more URLs needs
// a sitemap index, which this package does not write: list the newest
// MaxURLs.
const (
	MaxURLs     = 50_000
	MaxBytes    = 50 << 20 // uncompressed
	MaxLocChars = 2047     // "less than 2,048 characters"
)

// URL is one page of the site.
type URL struct {
	// Loc is the page's absolute URL, on the site's own scheme and host.
	Loc string
	// LastMod, optional (zero: left out), is when the page last changed.
	LastMod time.Time
}

type xmlURLSet struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []xmlURL `xml:"url"`
}

type xmlURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// Marshal returns the sitemap of urls, or an error for the caller's
// mistakes: more than MaxURLs, a URL that is relative, on another scheme
// or host than base (the protocol lets a sitemap list only its own site's
// pages), too long, or a document over MaxBytes. base is the site's
// origin, such as "https://blog.example". Each URL is written in its
// escaped form (non-ASCII percent-encoded, "&" as "&amp;"), as the
// protocol asks.
func Marshal(base string, urls []URL) ([]byte, error) {
	if len(urls) > MaxURLs {
		return nil, fmt.Errorf("sitemap: %d URLs, more than %d", len(urls), MaxURLs)
	}
	origin, err := url.Parse(base)
	if err != nil || (origin.Scheme != "http" && origin.Scheme != "https") || origin.Host == "" {
		return nil, fmt.Errorf("sitemap: base %q is not an http(s) origin", base)
	}
	set := xmlURLSet{URLs: make([]xmlURL, 0, len(urls))}
	for i, u := range urls {
		loc, err := url.Parse(u.Loc)
		if err != nil || loc.Scheme != origin.Scheme || loc.Host != origin.Host || loc.User != nil {
			return nil, fmt.Errorf("sitemap: URL %d %q is not a page of %s", i, u.Loc, base)
		}
		s := loc.String()
		if len(s) > MaxLocChars {
			return nil, fmt.Errorf("sitemap: URL %d is %d characters long, more than %d", i, len(s), MaxLocChars)
		}
		x := xmlURL{Loc: s}
		if !u.LastMod.IsZero() {
			t := u.LastMod.UTC()
			if t.Year() < 1 || t.Year() > 9999 {
				return nil, fmt.Errorf("sitemap: URL %d: year %d out of range", i, t.Year())
			}
			x.LastMod = t.Format(time.RFC3339) // a W3C Datetime
		}
		set.URLs = append(set.URLs, x)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(set); err != nil {
		return nil, fmt.Errorf("sitemap: encode: %w", err)
	}
	buf.WriteByte('\n')
	if buf.Len() > MaxBytes {
		return nil, fmt.Errorf("sitemap: %d bytes, more than %d", buf.Len(), MaxBytes)
	}
	return buf.Bytes(), nil
}
