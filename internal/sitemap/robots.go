package sitemap

import "strings"

// disallowed are the paths robots.txt asks crawlers to stay out of: forms
// and private pages, which have nothing to index and which a crawler
// would only fill the logs with. It is a request, not access control: each
// of them checks who is asking on its own.
// (/account is reserved for the account page, before it exists.)
var disallowed = []string{"/admin", "/account", "/setup", "/write", "/login", "/register"}

// Robots returns the body of robots.txt (RFC 9309) for the site at base,
// such as "https://blog.example": every crawler may read everything but
// the forms and private pages (/admin, /account, /setup, /write, /login,
// /register), and the sitemap is at base + Path. Serve it as
// "text/plain; charset=utf-8".
func Robots(base string) string {
	var b strings.Builder
	b.WriteString("User-agent: *\nAllow: /\n")
	for _, p := range disallowed {
		b.WriteString("Disallow: " + p + "\n")
	}
	b.WriteString("\nSitemap: " + strings.TrimSuffix(base, "/") + Path + "\n")
	return b.String()
}
