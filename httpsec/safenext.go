package httpsec

import (
	"net/url"
	"strings"
)

// MaxNextBytes is the longest return path SafeNext accepts. Real paths on
// a blog are far shorter; the bound keeps a crafted link from carrying a
// URL-sized payload through the sign-in form and into a header.
const MaxNextBytes = 1024

// SafeNext checks a return path given by the client, such as the next
// parameter of a sign-in page, and returns it with true only when it is a
// path on this site: it starts with one "/", and neither a browser nor a
// server that decodes it once more can read it as another host, a scheme,
// or a path outside the one written. Anything else gives "", false, and the
// caller uses its default page instead (never an error page: a bad next is
// usually a stale or mangled link, not worth a refusal).
//
// Intended use, in the sign-in handler after a successful sign-in:
//
//	dest := "/"
//	if next, ok := httpsec.SafeNext(r.FormValue("next")); ok {
//		dest = next
//	}
//	http.Redirect(w, r, dest, http.StatusSeeOther)
//
// and, on the way in, link to "/login?next=" + url.QueryEscape(r.URL.RequestURI()).
//
// It accepts a deliberately small language rather than trying to spot
// every trick (the payloads in its test are the usual open-redirect list):
//
//   - printable ASCII only: no space, tab, CR or LF (which browsers strip
//     from a URL before reading it, so "/\t/evil.example" would become
//     "//evil.example"), no other control character, no non-ASCII (a
//     real path arrives percent-encoded, and look-alikes such as U+3031
//     or U+FF0F are where URL parsers disagree);
//   - no backslash anywhere: browsers read "\" as "/" in http(s) URLs, so
//     "/\evil.example" is "//evil.example";
//   - a path that starts with "/" but not "//" (scheme-relative: another
//     host) and has no scheme, userinfo or fragment;
//   - no empty ("//"), "." or ".." path segment, written plainly or
//     percent-encoded, and no encoded "/", "\" or "%" in the path
//     (%2f, %5c, %25): a later layer that decodes the path, or decodes it
//     twice, must not find a different path or a second slash in it;
//   - no encoded control character anywhere (%00, %09, %0a, …).
//
// The query string may hold any other percent-encoded byte, since it
// never changes the host a browser goes to.
func SafeNext(raw string) (path string, ok bool) {
	if raw == "" || len(raw) > MaxNextBytes {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || c == '\\' || c == '#' {
			return "", false
		}
	}
	if raw[0] != '/' || strings.HasPrefix(raw, "//") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" || u.Fragment != "" {
		return "", false
	}
	rawPath, rawQuery, _ := strings.Cut(raw, "?")
	if !safeEscapes(rawPath, true) || !safeEscapes(rawQuery, false) {
		return "", false
	}
	// With "%2f" and "%25" refused, the decoded path has the same segments
	// as the written one; check them on the decoded form, so that "%2e" is
	// seen as ".".
	// One trailing slash ("/u/alice/") is an ordinary path.
	if p := strings.TrimSuffix(u.Path[1:], "/"); p != "" {
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", false
			}
		}
	}
	return raw, true
}

// safeEscapes reports whether every percent-escape in s decodes to a
// printable byte and, in a path, to none of '/', '\' or '%'. (url.Parse has
// already checked that each '%' starts a well-formed escape.)
func safeEscapes(s string, inPath bool) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if i+2 >= len(s) {
			return false
		}
		b, err := url.PathUnescape(s[i : i+3])
		if err != nil || len(b) != 1 {
			return false
		}
		c := b[0]
		if c < ' ' || c == 0x7f || (inPath && (c == '/' || c == '\\' || c == '%')) {
			return false
		}
		s = s[i+3:]
	}
	return true
}
