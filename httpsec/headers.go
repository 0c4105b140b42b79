package httpsec

import "net/http"

// HelmetCSP is helmet 8's default Content-Security-Policy, suitable for
// server-rendered HTML pages.
const HelmetCSP = "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"

// APICSP is the policy for JSON responses: nothing may load, nothing may frame.
const APICSP = "default-src 'none'; frame-ancestors 'none'"

// hstsValue asks browsers to use HTTPS only, for a year, on subdomains too.
const hstsValue = "max-age=31536000; includeSubDomains"

// HeaderOptions configures SecureHeaders.
type HeaderOptions struct {
	CSP  string // Content-Security-Policy value; "" means HelmetCSP
	HSTS bool   // add Strict-Transport-Security: max-age=31536000; includeSubDomains (production/TLS only)
}

// headerField is one precomputed header: a canonical key and a value slice
// shared by every response.
type headerField struct {
	key   string
	value []string
}

// SecureHeaders sets helmet 8's default security headers on every response
// (with X-Frame-Options: DENY instead of helmet's SAMEORIGIN) and, when
// opts.HSTS is set, Strict-Transport-Security. The headers are set before
// next runs, so a handler may replace any of them with w.Header().Set.
//
// It never sets Server or X-Powered-By, and removes them if an outer layer
// set them, so the response does not advertise the software behind it.
func SecureHeaders(opts HeaderOptions) Middleware {
	fields := secureHeaderFields(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, f := range fields {
				h[f.key] = f.value
			}
			delete(h, "Server")
			delete(h, "X-Powered-By")
			next.ServeHTTP(w, r)
		})
	}
}

// secureHeaderFields builds the header list once so each request only does
// map assignments. Every value slice has len == cap, so a handler calling
// Header().Add on one of these keys makes append copy into a new array
// instead of writing into the array other responses share.
func secureHeaderFields(opts HeaderOptions) []headerField {
	csp := opts.CSP
	if csp == "" {
		csp = HelmetCSP
	}
	pairs := [][2]string{
		{"Content-Security-Policy", csp},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
		{"Origin-Agent-Cluster", "?1"},
		{"Referrer-Policy", "no-referrer"},
		{"X-Content-Type-Options", "nosniff"},
		{"X-DNS-Prefetch-Control", "off"},
		{"X-Download-Options", "noopen"},
		{"X-Frame-Options", "DENY"},
		{"X-Permitted-Cross-Domain-Policies", "none"},
		// 0 turns off the legacy XSS auditor, which itself enabled attacks.
		{"X-XSS-Protection", "0"},
	}
	if opts.HSTS {
		pairs = append(pairs, [2]string{"Strict-Transport-Security", hstsValue})
	}
	fields := make([]headerField, len(pairs))
	for i, p := range pairs {
		// Keys are canonicalised so Header().Get and Set find them.
		fields[i] = headerField{key: http.CanonicalHeaderKey(p[0]), value: []string{p[1]}[:1:1]}
	}
	return fields
}
