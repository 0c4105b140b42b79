package httpsec

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzCheckCSRFToken: no token string panics the check, and a token is
// accepted exactly when it unmasks to the secret, worked out here
// independently: base64url without padding, a pad and the secret XORed
// with it. Line breaks, which the base64 decoder skips, only make a token
// longer than any real one, and are refused.
func FuzzCheckCSRFToken(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	f.Add(MaskCSRFToken(secret))
	f.Add(MaskCSRFToken([]byte("another secret of 32 bytes......")))
	// The zero pad: the secret in clear after 32 zero bytes.
	f.Add(base64.RawURLEncoding.EncodeToString(append(make([]byte, len(secret)), secret...)))
	f.Add("")
	f.Add("AAAA")
	f.Add(strings.Repeat("A", 86))
	f.Add(strings.Repeat("/", 86))
	f.Fuzz(func(t *testing.T, token string) {
		want := false
		if buf, err := base64.RawURLEncoding.DecodeString(token); err == nil && len(buf) == 2*len(secret) && !strings.ContainsAny(token, "\r\n") {
			pad, masked := buf[:len(secret)], buf[len(secret):]
			unmasked := make([]byte, len(secret))
			for i := range unmasked {
				unmasked[i] = pad[i] ^ masked[i]
			}
			want = bytes.Equal(unmasked, secret)
		}
		if got := CheckCSRFToken(secret, token); got != want {
			t.Fatalf("CheckCSRFToken(%q) = %v, want %v", token, got, want)
		}
		if CheckCSRFToken(nil, token) {
			t.Fatal("empty secret matched")
		}
	})
}

// headerAddrs is the fuzz oracle's own, naive idea of which addresses a
// forwarding header names: every piece between delimiters, spaces and zone
// marks that parses as an address, or as an address and port. Backslashes
// (quoted-pair escapes) are dropped first.
func headerAddrs(v string) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	v = strings.ReplaceAll(v, `\`, "")
	for _, piece := range strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`,;="[]%`, r) }) {
		if a, err := netip.ParseAddr(piece); err == nil {
			out[a.Unmap().WithZone("")] = true
		}
		if ap, err := netip.ParseAddrPort(piece); err == nil {
			out[ap.Addr().Unmap().WithZone("")] = true
		}
	}
	return out
}

// FuzzClientIP: whatever X-Forwarded-For and Forwarded say, the client is
// the TCP peer or an address written in the header that counts (X-Forwarded-
// For when present), never a panic; from an untrusted peer both are
// ignored entirely.
func FuzzClientIP(f *testing.F) {
	for _, seed := range [][2]string{
		{"203.0.113.1", ""},
		{"1.2.3.4, 203.0.113.1", ""},
		{"2001:db8::1, ::ffff:10.0.0.1", ""},
		{",,,", ""},
		{"[::1]:80, 999.1.1.1", ""},
		{strings.Repeat("10.0.0.1,", 1000), ""},
		{"1.2.3.4:5678", ""},
		{"[2001:db8::1]:443, 10.0.0.9:80", ""},
		{"2001:db8::1", ""},
		{"::ffff:192.0.2.1", ""},
		{"[::ffff:192.0.2.1]:8080", ""},
		{"unknown, 203.0.113.1:1", ""},
		{"", "for=192.0.2.60;proto=http;by=203.0.113.43"},
		{"", `for="[2001:db8:cafe::17]:4711"`},
		{"", `For="192.0.2.43:47011", for=198.51.100.17;by=10.0.0.1`},
		{"", `for=unknown, for="_hidden", for="[::ffff:10.0.0.3]"`},
		{"", `for="\"quoted\"";host=example.com, FOR=203.0.113.9`},
		{"", `for="unterminated`},
		{"", "for=1.2.3.4;for=5.6.7.8"},
		{"198.51.100.4", "for=203.0.113.9"},
	} {
		f.Add(seed[0], seed[1])
	}
	trusted := NewClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")})
	untrusted := NewClientIP(nil)
	peer := netip.MustParseAddr("10.0.0.2")
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.2:5000"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			r.Header.Set("Forwarded", fwd)
		}
		a := trusted.Addr(r)
		if !a.IsValid() {
			t.Fatalf("trusted peer, XFF %q, Forwarded %q: invalid address", xff, fwd)
		}
		counted := fwd
		if xff != "" {
			counted = xff
		}
		if a != peer && !headerAddrs(counted)[a] {
			t.Fatalf("XFF %q, Forwarded %q: client %v is neither the peer nor in the header that counts", xff, fwd, a)
		}
		if a := untrusted.Addr(r); a != peer {
			t.Fatalf("untrusted peer: XFF %q, Forwarded %q changed the client to %v", xff, fwd, a)
		}
		_ = RateKey(a)
		if s := trusted.Scheme(r); s != "http" && s != "https" {
			t.Fatalf("scheme %q", s)
		}
	})
}

// FuzzParseRate: a parsed rate is always usable (limit ≥ 1, window ≥ 1s)
// and round-trips through String.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"100/15m", "5/1s", "0/1m", "1/0s", "-1/1m", "99999999999999999999/1h", "1/9223372036854775807ns", "/", "1/1m/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Limit < 1 || r.Window < time.Second {
			t.Fatalf("ParseRate(%q) = %+v", s, r)
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("round trip of %q: %+v, %v", s, back, err)
		}
		_ = PolicyName(r)
	})
}

// FuzzParseTrustedProxies: whatever parses is a list of valid prefixes.
func FuzzParseTrustedProxies(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "127.0.0.1, ::1", "10.0.0.0/33", "fe80::1%eth0", ",", "0.0.0.0/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseTrustedProxies(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() {
				t.Fatalf("ParseTrustedProxies(%q) gave invalid %v", s, p)
			}
		}
	})
}

// FuzzAllowedHosts: in the production setting, a request is served exactly
// when its Host names the base host, spelled in any case, with or without
// a trailing dot and the default (or an empty) port; in the development setting,
// whatever is served is the base host or a loopback name. Never a panic.
func FuzzAllowedHosts(f *testing.F) {
	for _, s := range []string{"blog.example", "BLOG.example.:443", "blog.example:8443", "attacker.example", "blog.example.attacker.example",
		"localhost:3000", "a.localhost", "127.0.0.9:1", "[::1]:80", "[::ffff:127.0.0.1]", "[::1", "::1", "blog.example:443:443", ":443", "", "[fe80::1%25eth0]:80"} {
		f.Add(s)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	prod := AllowedHosts(HostOptions{Hosts: []string{"blog.example", "blog.example:443"}})(ok)
	dev := AllowedHosts(HostOptions{Hosts: []string{"blog.example"}, AnyPort: true, Loopback: true})(ok)
	served := func(h http.Handler, host string) bool {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code != http.StatusMisdirectedRequest
	}
	f.Fuzz(func(t *testing.T, host string) {
		lower := strings.ToLower(host)
		want := false
		for _, name := range []string{"blog.example", "blog.example."} {
			// An empty port ("blog.example:") is the default one (RFC 3986).
			want = want || lower == name || lower == name+":" || lower == name+":443"
		}
		if got := served(prod, host); got != want {
			t.Fatalf("production, Host %q: served %v, want %v", host, got, want)
		}
		if !served(dev, host) {
			return
		}
		name := lower
		if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.HasSuffix(name, "]") {
			name = name[:i]
		}
		name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"), ".")
		if name == "blog.example" || name == "localhost" || strings.HasSuffix(name, ".localhost") {
			return
		}
		if a, err := netip.ParseAddr(name); err == nil && a.Unmap().IsLoopback() {
			return
		}
		t.Fatalf("development, Host %q served: neither the base host nor a loopback name", host)
	})
}
