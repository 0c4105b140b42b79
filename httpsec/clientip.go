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
// the peer is a trusted proxy, in which case the proxies' list of hops is
// walked from right to left, skipping trusted addresses, and the first
// untrusted address is the client (if all are trusted, the leftmost).
//
// The list is X-Forwarded-For when the request has one, else the for=
// parameters of the RFC 7239 Forwarded header; the other header is then
// ignored. X-Forwarded-For wins because it is what nearly every proxy
// writes: a client cannot make Forwarded count by sending one, since a proxy
// that writes X-Forwarded-For always leaves one on the request. A proxy
// that writes only Forwarded must therefore remove any X-Forwarded-For the
// client sent. Multiple header lines are treated as one comma-joined list.
//
// A hop may be written 1.2.3.4, 1.2.3.4:5678, 2001:db8::1, [2001:db8::1] or
// [2001:db8::1]:443 (Forwarded values quoted or not); IPv4-mapped IPv6
// addresses are unmapped and zones dropped. Anything else (Forwarded's
// "unknown" and obfuscated identifiers, an empty entry, garbage) is not an
// address and ends the walk at the last good one, which is at worst the
// peer: the client can't be named, and nothing it wrote is believed. A
// Forwarded header that doesn't parse is ignored as a whole, for the same
// reason. If RemoteAddr can't be parsed it returns the zero netip.Addr.
//
// The walk goes right to left because each proxy appends the address it saw
// on the right; everything left of the first untrusted hop was written by
// the client and may be forged.
func (c *ClientIP) Addr(r *http.Request) netip.Addr {
	last := peer(r)
	if !last.IsValid() || !c.isTrusted(last) {
		return last
	}
	if lines := r.Header["X-Forwarded-For"]; len(lines) > 0 {
		return c.walkXFF(last, lines)
	}
	if lines := r.Header["Forwarded"]; len(lines) > 0 {
		hops, ok := forwardedFor(lines)
		if !ok {
			return last
		}
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				return last
			}
			last = a
			if !c.isTrusted(last) {
				return last
			}
		}
	}
	return last
}

// walkXFF walks X-Forwarded-For lines from the right, as Addr describes,
// starting from last, the trusted peer.
func (c *ClientIP) walkXFF(last netip.Addr, lines []string) netip.Addr {
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			comma := strings.LastIndexByte(rest, ',')
			if comma >= 0 {
				entry, rest = rest[comma+1:], rest[:comma]
			}
			a, ok := parseHop(entry)
			if !ok {
				return last
			}
			last = a
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

// parseHop parses one hop of a forwarding header in the forms proxies write:
// an address, with or without a port, IPv6 with or without brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return normalizeAddr(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalizeAddr(ap.Addr()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return normalizeAddr(a), true
		}
	}
	return netip.Addr{}, false
}

// forwardedFor returns the for= value of each element of the Forwarded
// header lines (RFC 7239), left to right, with quotes removed; "" for an
// element that has none. Empty list elements are skipped, as lists allow.
// Parameter names are case-insensitive. ok is false when the syntax is
// broken or an element names for= twice (which would leave it ambiguous).
//
// Unquoted values are read up to the next delimiter rather than checked
// against the token grammar, so a proxy that writes for=2001:db8::1 without
// the quotes the RFC asks for is still understood; the value must parse as
// an address to count either way.
func forwardedFor(lines []string) (hops []string, ok bool) {
	for _, line := range lines {
		var (
			hop              string
			hasFor, nonEmpty bool
		)
		for i := 0; ; {
			i = skipOWS(line, i)
			if i < len(line) && line[i] != ',' && line[i] != ';' {
				eq := i
				for eq < len(line) && isTokenChar(line[eq]) {
					eq++
				}
				if eq == i || eq == len(line) || line[eq] != '=' {
					return nil, false
				}
				name := line[i:eq]
				var value string
				value, i, ok = forwardedValue(line, eq+1)
				if !ok {
					return nil, false
				}
				if strings.EqualFold(name, "for") {
					if hasFor {
						return nil, false
					}
					hop, hasFor = value, true
				}
				nonEmpty = true
				i = skipOWS(line, i)
			}
			if i < len(line) && line[i] == ';' {
				i++
				continue
			}
			if i < len(line) && line[i] != ',' {
				return nil, false
			}
			if nonEmpty {
				hops = append(hops, hop)
			}
			if i == len(line) {
				break
			}
			i++ // past the comma: a new element
			hop, hasFor, nonEmpty = "", false, false
		}
	}
	return hops, true
}

// forwardedValue reads a Forwarded parameter value starting at line[i]: a
// quoted string (backslash escapes undone) or a bare run of characters up
// to a delimiter. It returns the value and the index after it.
func forwardedValue(line string, i int) (value string, next int, ok bool) {
	if i < len(line) && line[i] == '"' {
		var b strings.Builder
		for i++; i < len(line); i++ {
			switch ch := line[i]; ch {
			case '"':
				return b.String(), i + 1, true
			case '\\':
				if i++; i == len(line) {
					return "", 0, false
				}
				b.WriteByte(line[i])
			default:
				b.WriteByte(ch)
			}
		}
		return "", 0, false // unterminated
	}
	j := i
	for j < len(line) && !strings.ContainsRune(",;\" \t", rune(line[j])) {
		j++
	}
	if j == i {
		return "", 0, false
	}
	return line[i:j], j, true
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports an RFC 9110 token character.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Scheme returns "https" when r.TLS != nil, or when the socket peer is a
// trusted proxy and X-Forwarded-Proto is "https"; otherwise "http".
//
// When X-Forwarded-Proto holds a list, the rightmost value is used: it is the
// one the nearest (trusted) proxy added, while earlier values may come from
// the client. The proto= parameter of Forwarded is not read.
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
