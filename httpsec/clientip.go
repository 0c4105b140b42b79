package httpsec

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// ClientIP resolves the client address of a request. Only proxies in the trusted list are believed.
//
// X-Forwarded-For and X-Forwarded-Proto are plain request headers that any
// client can send, so they are read only when the socket peer is a proxy we
// run; otherwise a client could pick its own rate-limit key or pretend to be
// on HTTPS.
type ClientIP struct {
	trusted []netip.Prefix
}

// NewClientIP returns a resolver that believes forwarding headers only from
// peers inside the trusted prefixes. A nil or empty list trusts no one, so
// Addr is always the socket peer.
func NewClientIP(trusted []netip.Prefix) *ClientIP {
	c := &ClientIP{trusted: make([]netip.Prefix, 0, len(trusted))}
	for _, p := range trusted {
		if p.IsValid() {
			c.trusted = append(c.trusted, normalizePrefix(p))
		}
	}
	return c
}

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes or bare
// IP addresses (a bare IP is a /32 or /128), as found in configuration. An
// empty or blank string yields nil. The error names the offending entry.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]netip.Prefix, 0, len(parts))
	for i, part := range parts {
		entry := strings.TrimSpace(part)
		if entry == "" {
			return nil, errors.New("trusted proxies: entry " + strconv.Itoa(i+1) + " is empty")
		}
		p, err := parseTrustedEntry(entry)
		if err != nil {
			return nil, errors.New("trusted proxies: entry " + strconv.Itoa(i+1) + " " + strconv.Quote(entry) + " is not an IP address or CIDR prefix")
		}
		out = append(out, p)
	}
	return out, nil
}

func parseTrustedEntry(entry string) (netip.Prefix, error) {
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, err
		}
		return normalizePrefix(p), nil
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = normalizeAddr(a)
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// normalizePrefix masks host bits and turns an IPv4-mapped IPv6 prefix into
// the IPv4 prefix it denotes, because addresses are unmapped before they are
// compared and an IPv4 address never matches an IPv6 prefix.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// normalizeAddr unmaps IPv4-mapped IPv6 addresses (a dual-stack listener
// reports IPv4 clients as ::ffff:a.b.c.d) and drops any zone, which
// netip.Prefix.Contains would otherwise refuse to match.
func normalizeAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

func (c *ClientIP) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peer parses the socket peer from r.RemoteAddr. Some servers and tests set
// RemoteAddr without a port, so a bare address is accepted too.
func peer(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return normalizeAddr(ap.Addr())
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return normalizeAddr(a)
	}
	return netip.Addr{}
}

// Addr returns the client's address: the socket peer (r.RemoteAddr), unless
// the peer is a trusted proxy, in which case X-Forwarded-For is walked from
// right to left, skipping trusted addresses, and the first untrusted address
// is the client (if all are trusted, the leftmost). Malformed entries end the
// walk at the last good address. Multiple X-Forwarded-For header lines are
// treated as one comma-joined list. IPv4-mapped IPv6 addresses are unmapped.
// If RemoteAddr can't be parsed it returns the zero netip.Addr.
//
// The walk goes right to left because each proxy appends the address it saw
// on the right; everything left of the first untrusted hop was written by
// the client and may be forged.
func (c *ClientIP) Addr(r *http.Request) netip.Addr {
	last := peer(r)
	if !last.IsValid() || !c.isTrusted(last) {
		return last
	}
	lines := r.Header["X-Forwarded-For"]
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			comma := strings.LastIndexByte(rest, ',')
			if comma >= 0 {
				entry, rest = rest[comma+1:], rest[:comma]
			}
			a, err := netip.ParseAddr(strings.TrimSpace(entry))
			if err != nil {
				return last
			}
			last = normalizeAddr(a)
			if !c.isTrusted(last) {
				return last
			}
			if comma < 0 {
				break
			}
		}
	}
	return last
}

// Scheme returns "https" when r.TLS != nil, or when the socket peer is a
// trusted proxy and X-Forwarded-Proto is "https"; otherwise "http".
//
// When X-Forwarded-Proto holds a list, the rightmost value is used: it is the
// one the nearest (trusted) proxy added, while earlier values may come from
// the client.
func (c *ClientIP) Scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	p := peer(r)
	if !p.IsValid() || !c.isTrusted(p) {
		return "http"
	}
	lines := r.Header["X-Forwarded-Proto"]
	if len(lines) == 0 {
		return "http"
	}
	v := lines[len(lines)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if strings.EqualFold(strings.TrimSpace(v), "https") {
		return "https"
	}
	return "http"
}

// ipv6RateBits is how much of an IPv6 address identifies one subscriber:
// ISPs commonly delegate a /56 (sometimes a /48 or /64) to each customer.
const ipv6RateBits = 56

// RateKey groups an address for rate limiting: an IPv4 address is its own
// key; IPv6 addresses are grouped by their /56 prefix (as express-rate-limit
// 8 does), so one subscriber can't rotate through addresses. Returns a short
// string, or "" for the zero Addr.
func RateKey(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	addr = normalizeAddr(addr)
	if addr.Is4() {
		return addr.String()
	}
	// Prefix cannot fail here: addr is a valid, zone-free IPv6 address.
	p, _ := addr.Prefix(ipv6RateBits)
	return p.String()
}
