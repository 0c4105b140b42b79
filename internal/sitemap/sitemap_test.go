package sitemap

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"
)

// parsed is the sitemap as a crawler reads it, with namespaces checked.
type parsed struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []struct {
		Loc     string `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 loc"`
		LastMod string `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 lastmod"`
	} `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 url"`
}

// w3cDatetime is the complete date plus hours, minutes and seconds form of
// the W3C Datetime profile of ISO 8601 that the protocol names.
var w3cDatetime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$`)

func TestMarshal(t *testing.T) {
	when := time.Date(2026, 11, 2, 10, 0, 5, 0, time.FixedZone("CET", 3600))
	doc, err := Marshal("https://blog.example", []URL{
		{Loc: "https://blog.example/", LastMod: when},
		{Loc: "https://blog.example/post/42"},
		{Loc: "https://blog.example/?cursor=a&b=<c>"},
		{Loc: "https://blog.example/u/élise"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Fatalf("no XML declaration:\n%s", doc)
	}
	if bytes.Contains(doc, []byte("a&b")) || bytes.Contains(doc, []byte("<c>")) {
		t.Fatalf("unescaped & or <:\n%s", doc)
	}
	var got parsed
	if err := xml.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	want := []struct{ loc, lastmod string }{
		{"https://blog.example/", "2026-11-02T09:00:05Z"},
		{"https://blog.example/post/42", ""},
		{"https://blog.example/?cursor=a&b=<c>", ""},
		{"https://blog.example/u/%C3%A9lise", ""},
	}
	if len(got.URLs) != len(want) {
		t.Fatalf("%d URLs:\n%s", len(got.URLs), doc)
	}
	for i, w := range want {
		if got.URLs[i].Loc != w.loc || got.URLs[i].LastMod != w.lastmod {
			t.Errorf("URL %d = %+v, want %+v", i, got.URLs[i], w)
		}
		if w.lastmod != "" && !w3cDatetime.MatchString(got.URLs[i].LastMod) {
			t.Errorf("lastmod %q is not a W3C Datetime", got.URLs[i].LastMod)
		}
	}
	if bytes.Contains(doc, []byte("<lastmod></lastmod>")) {
		t.Errorf("empty lastmod written:\n%s", doc)
	}
}

func TestMarshalEmpty(t *testing.T) {
	doc, err := Marshal("http://127.0.0.1:3000", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got parsed
	if err := xml.Unmarshal(doc, &got); err != nil || len(got.URLs) != 0 {
		t.Fatalf("%v, %d URLs:\n%s", err, len(got.URLs), doc)
	}
}

// TestMarshalRefuses: the caller's mistakes are errors and no document.
func TestMarshalRefuses(t *testing.T) {
	many := make([]URL, MaxURLs+1)
	for i := range many {
		many[i].Loc = "https://blog.example/post/x"
	}
	for _, tc := range []struct {
		name, base string
		urls       []URL
	}{
		{"BaseNotHTTP", "ftp://blog.example", nil},
		{"BaseRelative", "/", nil},
		{"Relative", "https://blog.example", []URL{{Loc: "/post/1"}}},
		{"OtherHost", "https://blog.example", []URL{{Loc: "https://evil.example/"}}},
		{"HostSuffix", "https://blog.example", []URL{{Loc: "https://blog.example.evil.example/"}}},
		{"OtherScheme", "https://blog.example", []URL{{Loc: "http://blog.example/"}}},
		{"OtherPort", "https://blog.example", []URL{{Loc: "https://blog.example:8443/"}}},
		{"Userinfo", "https://blog.example", []URL{{Loc: "https://a:b@blog.example/"}}},
		{"ControlCharacter", "https://blog.example", []URL{{Loc: "https://blog.example/\n"}}},
		{"TooLong", "https://blog.example", []URL{{Loc: "https://blog.example/" + strings.Repeat("a", MaxLocChars)}}},
		{"YearOutOfRange", "https://blog.example", []URL{{Loc: "https://blog.example/", LastMod: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		{"TooMany", "https://blog.example", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if doc, err := Marshal(tc.base, tc.urls); err == nil || doc != nil {
				t.Fatalf("Marshal = %d bytes, %v; want an error", len(doc), err)
			}
		})
	}
	t.Run("AtTheLimit", func(t *testing.T) {
		if _, err := Marshal("https://blog.example", many[:MaxURLs]); err != nil {
			t.Fatal(err)
		}
	})
}

// robotsAllowed is RFC 9309's matching, written here for the test: among
// the rules of the group for "*", the longest path prefix that matches
// wins, an allow winning a tie; with no match, everything is allowed.
// (The rules here use no "*" or "$" patterns.)
func robotsAllowed(t *testing.T, body, path string) bool {
	t.Helper()
	best, allowed := -1, true
	inGroup := false
	for _, line := range strings.Split(body, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch key {
		case "user-agent":
			inGroup = value == "*"
		case "allow", "disallow":
			if !inGroup || value == "" || !strings.HasPrefix(path, value) {
				continue
			}
			if len(value) > best || (len(value) == best && key == "allow") {
				best, allowed = len(value), key == "allow"
			}
		case "sitemap":
		default:
			t.Fatalf("unknown robots.txt line %q", line)
		}
	}
	return allowed
}

func TestRobots(t *testing.T) {
	for _, base := range []string{"https://blog.example", "https://blog.example/"} {
		body := Robots(base)
		if !strings.Contains(body, "\nSitemap: https://blog.example/sitemap.xml\n") {
			t.Fatalf("Robots(%q) has no sitemap line:\n%s", base, body)
		}
	}
	body := Robots("https://blog.example")
	if !strings.HasPrefix(body, "User-agent: *\n") || !strings.HasSuffix(body, "\n") {
		t.Fatalf("body:\n%s", body)
	}
	for path, want := range map[string]bool{
		"/":                    true,
		"/post/01HZX3":         true,
		"/u/alice":             true,
		"/u/alice/feed.xml":    true,
		"/feed.xml":            true,
		"/?cursor=abc":         true,
		"/admin":               false,
		"/admin/users":         false,
		"/account":             false,
		"/account/sessions":    false,
		"/setup":               false,
		"/setup?token=abc":     false,
		"/write":               false,
		"/login":               false,
		"/login?next=%2Fwrite": false,
		"/register":            false,
	} {
		if got := robotsAllowed(t, body, path); got != want {
			t.Errorf("robots.txt allows %s: %v, want %v", path, got, want)
		}
	}
}
