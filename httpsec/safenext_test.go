package httpsec

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// safeNextCases are hand-written return paths, with whether SafeNext takes
// them; the published payload list is in TestSafeNextPayloads.
var safeNextCases = []struct {
	name, raw string
	ok        bool
}{
	{"Root", "/", true},
	{"Post", "/post/01HZX3", true},
	{"AuthorPage", "/u/alice", true},
	{"TrailingSlash", "/u/alice/", true},
	{"Query", "/write?draft=1", true},
	{"EncodedQuery", "/?cursor=abc%3D%3D&q=a%20b", true},
	{"EncodedSlashInQuery", "/login?next=%2Fwrite", true},
	{"EncodedUTF8", "/post/caf%C3%A9", true},
	{"ColonInPath", "/a:b", true},
	{"AtInPath", "/@alice", true},
	{"DotFile", "/.well-known/x", true},

	{"Empty", "", false},
	{"Relative", "post/1", false},
	{"BareHost", "evil.example", false},
	{"SchemeRelative", "//evil.example", false},
	{"TripleSlash", "///evil.example", false},
	{"SlashBackslash", `/\evil.example`, false},
	{"BackslashSlash", `\/evil.example`, false},
	{"Backslashes", `\\evil.example`, false},
	{"BackslashInPath", `/a\b`, false},
	{"TabStripped", "/\t/evil.example", false},
	{"NewlineStripped", "/\n/evil.example", false},
	{"CRLF", "\r\n//evil.example", false},
	{"LeadingSpace", " //evil.example", false},
	{"TrailingSpace", "/a ", false},
	{"NUL", "/\x00", false},
	{"DEL", "/\x7f", false},
	{"NonASCII", "/é", false},
	{"IdeographicRepeatMark", "/〱evil.example", false},
	{"FullwidthSolidus", "/／evil.example", false},
	{"Scheme", "https://evil.example", false},
	{"SchemeNoSlashes", "http:evil.example", false},
	{"Javascript", "javascript:alert(1)", false},
	{"Userinfo", "//blog.example@evil.example", false},
	{"EncodedSlashes", "/%2f%2fevil.example", false},
	{"EncodedSlashesUpper", "/%2F%2Fevil.example", false},
	{"EncodedBackslash", "/%5cevil.example", false},
	{"EncodedBackslashUpper", "/%5Cevil.example", false},
	{"DoubleEncodedSlashes", "/%252f%252fevil.example", false},
	{"EncodedTab", "/%09/evil.example", false},
	{"EncodedNUL", "/a%00", false},
	{"EncodedCRLFInPath", "/a%0d%0aSet-Cookie:x=1", false},
	{"EncodedCRLFInQuery", "/a?x=%0d%0aSet-Cookie:x=1", false},
	{"DotSlashSlash", "/.//evil.example", false},
	{"DotSegment", "/./a", false},
	{"DotDotSegment", "/a/../b", false},
	{"EncodedDotDot", "/%2e%2e/b", false},
	{"EncodedDot", "/%2E/", false},
	{"EmptySegment", "/a//b", false},
	{"DoubleTrailingSlash", "/a//", false},
	{"Fragment", "/a#b", false},
	{"FragmentSlashes", "/#//evil.example", false},
	{"BadEscape", "/%zz", false},
	{"TruncatedEscape", "/a%2", false},
	{"LoneEscape", "/%", false},
	{"TooLong", "/" + strings.Repeat("a", MaxNextBytes), false},
}

func TestSafeNext(t *testing.T) {
	for _, tc := range safeNextCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SafeNext(tc.raw)
			if ok != tc.ok {
				t.Fatalf("SafeNext(%q) = %q, %v; want ok %v", tc.raw, got, ok, tc.ok)
			}
			if ok {
				if got != tc.raw {
					t.Fatalf("SafeNext(%q) = %q, want it unchanged", tc.raw, got)
				}
				checkStaysOnSite(t, got)
			} else if got != "" {
				t.Fatalf("SafeNext(%q) refused it but returned %q", tc.raw, got)
			}
		})
	}
}

// harmlessPayloads are the lines of the payload list that SafeNext takes,
// each a path on the blog itself: a redirect there goes nowhere else (the
// list's authors aim them at sites that join the path to a host, or that
// decode what the browser would not).
var harmlessPayloads = map[string]bool{
	"/javascript:alert(1)":  true,
	"/javascript:alert(1);": true,
	"/http:/example.com":    true,
	"/.example.com":         true,
	"/https:example.com":    true,
	"/?url=http://example.com&next=http://example.com&redirect=http://example.com&redir=http://example.com&rurl=http://example.com":                                               true,
	"/?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com":                                                                        true,
	"/redirect?url=http://example.com&next=http://example.com&redirect=http://example.com&redir=http://example.com&rurl=http://example.com":                                       true,
	"/redirect?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com":                                                                true,
	"/?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com&redirect_uri=//example.com":                                             true,
	"/?url=Https://example.com&next=Https://example.com&redirect=Https://example.com&redir=Https://example.com&rurl=Https://example.com&redirect_uri=Https://example.com":         true,
	"/redirect?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com&redirect_uri=//example.com":                                     true,
	"/redirect?url=Https://example.com&next=Https://example.com&redirect=Https://example.com&redir=Https://example.com&rurl=Https://example.com&redirect_uri=Https://example.com": true,
}

// openRedirectPayloads reads the published payload list in testdata.
func openRedirectPayloads(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/open-redirect-payloads.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "# ") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(out) < 300 {
		tb.Fatalf("only %d payloads read", len(out))
	}
	return out
}

// TestSafeNextPayloads runs the open-redirect payload list (testdata, from
// PayloadsAllTheThings): each is refused, or is one of the few that are
// harmless paths on the blog, and whatever is taken stays on the site.
func TestSafeNextPayloads(t *testing.T) {
	accepted := map[string]bool{}
	for _, p := range openRedirectPayloads(t) {
		got, ok := SafeNext(p)
		if !ok {
			continue
		}
		accepted[p] = true
		if !harmlessPayloads[p] {
			t.Errorf("SafeNext(%q) = %q, true; want it refused", p, got)
		}
		checkStaysOnSite(t, got)
	}
	for p := range harmlessPayloads {
		if !accepted[p] {
			t.Errorf("harmless payload %q was refused or is not in the list: update harmlessPayloads", p)
		}
	}
}

// FuzzSafeNext: whatever SafeNext takes is returned unchanged and stays on
// the site however it is read (see checkStaysOnSite); whatever it refuses
// gives "".
func FuzzSafeNext(f *testing.F) {
	for _, tc := range safeNextCases {
		f.Add(tc.raw)
	}
	for _, p := range openRedirectPayloads(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := SafeNext(raw)
		if !ok {
			if got != "" {
				t.Fatalf("SafeNext(%q) refused it but returned %q", raw, got)
			}
			return
		}
		if got != raw {
			t.Fatalf("SafeNext(%q) = %q, want it unchanged", raw, got)
		}
		checkStaysOnSite(t, got)
	})
}

var site = &url.URL{Scheme: "https", Host: "blog.example", Path: "/login"}

// checkStaysOnSite is the oracle for SafeNext, worked out without its
// rules: next, resolved by net/url against the sign-in page; the Location
// that http.Redirect makes of it, read the way a browser reads a URL; and
// its path decoded once and twice (by a careless later layer), read the
// same way: all name the same scheme and host, without userinfo.
func checkStaysOnSite(t *testing.T, next string) {
	t.Helper()
	ref, err := url.Parse(next)
	if err != nil {
		t.Fatalf("accepted %q does not parse: %v", next, err)
	}
	if u := site.ResolveReference(ref); u.Scheme != site.Scheme || u.Host != site.Host || u.User != nil {
		t.Fatalf("accepted %q resolves to %s", next, u.Redacted())
	}

	req := httptest.NewRequest(http.MethodPost, site.String(), nil)
	rec := httptest.NewRecorder()
	http.Redirect(rec, req, next, http.StatusSeeOther)
	loc := rec.Header().Values("Location")
	if len(loc) != 1 {
		t.Fatalf("accepted %q: Location %q", next, loc)
	}
	if !browserStaysOnSite(loc[0]) {
		t.Fatalf("accepted %q: a browser leaves the site for Location %q", next, loc[0])
	}

	p, query, _ := strings.Cut(next, "?")
	for range 2 {
		dec, err := url.PathUnescape(p)
		if err != nil {
			break
		}
		p = dec
		if !browserStaysOnSite(p + "?" + query) {
			t.Fatalf("accepted %q: decoded to %q, which leaves the site", next, p)
		}
	}
}

var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// browserStaysOnSite reads loc as the WHATWG URL parser does a redirect
// target on an https page (the rules that matter here): leading and
// trailing C0 controls and spaces are trimmed, tabs and newlines anywhere
// removed, "\" read as "/"; a scheme, or a leading "//", leaves the page's
// origin. What remains is resolved as a path.
func browserStaysOnSite(loc string) bool {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	if schemePrefix.MatchString(loc) || strings.HasPrefix(loc, "//") {
		return false
	}
	ref, err := url.Parse(loc)
	if err != nil {
		// Go refuses what a browser might still follow (a control byte):
		// count it as leaving.
		return false
	}
	u := site.ResolveReference(ref)
	return u.Scheme == site.Scheme && u.Host == site.Host && u.User == nil
}
