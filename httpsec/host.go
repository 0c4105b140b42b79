package httpsec

import (
	"net/http"
	"net/netip"
	"strings"
)

// HostOptions configures AllowedHosts.
type HostOptions struct {
	// Hosts are the Host header values the server answers for, as host or
	// host:port (an IPv6 address in brackets). They are compared without
	// regard to case or a trailing dot, and exactly otherwise: "example.com"
	// matches a Host without a port only, so list "example.com:443" too if
	// clients may spell the default port.
	Hosts []string
	// AnyPort compares names only, whatever port the Host header carries:
	// for development, where ports vary.
	AnyPort bool
	// Loopback also accepts localhost, names under .localhost, 127.0.0.0/8
	// and ::1, on any port: for development.
	Loopback bool
	// Skip, when it returns true, lets a request through whatever its Host
	// (health checks probed by address, say).
	Skip func(r *http.Request) bool
}

// AllowedHosts answers 421 Misdirected Request, with a short plain-text
// body, to requests whose Host header is not one the server answers for.
//
// It defeats DNS rebinding: a page on an attacker's site re-points its own
// name at an address the victim's browser can reach (a server on a private
// network or on the victim's own machine) and, being same-origin with that
// name, reads the answers. The browser still sends the attacker's name as
// Host, which is how the request is recognised and refused.
//
// Place it after SecureHeaders, so the 421 carries the headers, and before
// anything that acts on or counts the request.
func AllowedHosts(opts HostOptions) Middleware {
	// Keyed by name and port apart, so a lookup builds no string.
	type hostPort struct{ name, port string }
	allowed := make(map[hostPort]bool, len(opts.Hosts))
	for _, h := range opts.Hosts {
		name, port, ok := splitHost(h)
		if !ok {
			continue
		}
		if opts.AnyPort {
			port = ""
		}
		allowed[hostPort{name, port}] = true
	}
	anyPort, loopback, skip := opts.AnyPort, opts.Loopback, opts.Skip
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip != nil && skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			name, port, ok := splitHost(r.Host)
			if ok && anyPort {
				port = ""
			}
			if ok && (allowed[hostPort{name, port}] || loopback && isLoopbackName(name)) {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusMisdirectedRequest)
			_, _ = w.Write([]byte("Misdirected request: this server does not answer for that host name.\n")) // a failed write leaves nothing to do
		})
	}
}

// splitHost splits a Host header value into a normalised name (lower case,
// without a trailing dot or IPv6 brackets) and its port, "" if none. ok is
// false for an empty name or a malformed value.
func splitHost(h string) (name, port string, ok bool) {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", "", false
		}
		name, rest := h[1:end], h[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "", false
			}
			port = rest[1:]
		}
		a, err := netip.ParseAddr(name)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false
		}
		return a.String(), port, validPort(port)
	}
	name = h
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
	}
	if strings.Contains(name, ":") {
		return "", "", false // an IPv6 address must be in brackets
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return name, port, name != "" && validPort(port)
}

// validPort accepts "" (no port) or one to five digits.
func validPort(p string) bool {
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// isLoopbackName reports localhost, a name under .localhost (RFC 6761
// reserves both for the loopback) or a loopback address.
func isLoopbackName(name string) bool {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(name)
	return err == nil && a.Unmap().IsLoopback()
}
