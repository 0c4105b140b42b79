package httpsec

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzCheckCSRFToken: no token string panics the check, and only tokens
// made from the secret pass.
func FuzzCheckCSRFToken(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	f.Add(MaskCSRFToken(secret))
	f.Add("")
	f.Add("AAAA")
	f.Add(strings.Repeat("A", 86))
	f.Add(strings.Repeat("/", 86))
	f.Fuzz(func(t *testing.T, token string) {
		ok := CheckCSRFToken(secret, token)
		if ok && len(token) != 86 {
			t.Fatalf("token of length %d accepted", len(token))
		}
		if CheckCSRFToken(nil, token) {
			t.Fatal("empty secret matched")
		}
	})
}

// FuzzClientIP: any X-Forwarded-For from a trusted proxy yields a valid
// address or the peer itself, never a panic; from an untrusted peer it is
// ignored entirely.
func FuzzClientIP(f *testing.F) {
	f.Add("203.0.113.1")
	f.Add("1.2.3.4, 203.0.113.1")
	f.Add("2001:db8::1, ::ffff:10.0.0.1")
	f.Add(",,,")
	f.Add("[::1]:80, 999.1.1.1")
	f.Add(strings.Repeat("10.0.0.1,", 1000))
	trusted := NewClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	untrusted := NewClientIP(nil)
	f.Fuzz(func(t *testing.T, xff string) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.2:5000"
		r.Header.Set("X-Forwarded-For", xff)
		if a := trusted.Addr(r); !a.IsValid() {
			t.Fatalf("trusted peer, XFF %q: invalid address", xff)
		}
		if a := untrusted.Addr(r); a != netip.MustParseAddr("10.0.0.2") {
			t.Fatalf("untrusted peer: XFF %q changed the client to %v", xff, a)
		}
		_ = RateKey(trusted.Addr(r))
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
