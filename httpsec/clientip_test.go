package httpsec

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustPrefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrustedProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string // substring of the error
	}{
		{name: "empty", in: "", want: nil},
		{name: "blank", in: "  ", want: nil},
		{name: "cidr", in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{name: "bare ipv4 is /32", in: "127.0.0.1", want: []string{"127.0.0.1/32"}},
		{name: "bare ipv6 is /128", in: "::1", want: []string{"::1/128"}},
		{name: "list with spaces", in: "10.0.0.0/8, 192.168.1.1 ,fd00::/8", want: []string{"10.0.0.0/8", "192.168.1.1/32", "fd00::/8"}},
		{name: "host bits masked", in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{name: "ipv4-mapped unmapped", in: "::ffff:10.0.0.1,::ffff:10.0.0.0/104", want: []string{"10.0.0.1/32", "10.0.0.0/8"}},
		{name: "bad entry named", in: "10.0.0.0/8,proxy.local", wantErr: `entry 2 "proxy.local"`},
		{name: "bad prefix length", in: "10.0.0.0/33", wantErr: `"10.0.0.0/33"`},
		{name: "empty entry", in: "10.0.0.1,,10.0.0.2", wantErr: "entry 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTrustedProxies(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || (tt.want == nil) != (got == nil) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].String() != tt.want[i] {
					t.Errorf("[%d] = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestClientIPAddr(t *testing.T) {
	trusted := "10.0.0.0/8,192.168.0.1,fd00::/8"
	tests := []struct {
		name    string
		trusted string
		remote  string
		xff     []string
		fwd     []string // Forwarded lines
		want    string   // "" for the zero Addr
	}{
		{name: "no proxy", remote: "203.0.113.7:5000", want: "203.0.113.7"},
		{name: "forged xff from untrusted peer ignored", trusted: trusted, remote: "203.0.113.7:5000", xff: []string{"1.2.3.4"}, want: "203.0.113.7"},
		{name: "forged xff with no trusted proxies", remote: "203.0.113.7:5000", xff: []string{"1.2.3.4"}, want: "203.0.113.7"},
		{name: "trusted proxy", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9"}, want: "198.51.100.9"},
		{name: "trusted proxy chain", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9, 192.168.0.1, 10.1.1.1"}, want: "198.51.100.9"},
		{name: "spoofed leftmost entry ignored", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"1.2.3.4, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "spoof behind chain ignored", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"1.2.3.4,198.51.100.9,10.1.1.1"}, want: "198.51.100.9"},
		{name: "all trusted gives leftmost", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"10.9.9.9, 10.1.1.1"}, want: "10.9.9.9"},
		{name: "trusted proxy without xff", trusted: trusted, remote: "10.0.0.2:443", want: "10.0.0.2"},
		{name: "multiple header lines joined", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"1.2.3.4", "198.51.100.9, 10.1.1.1"}, want: "198.51.100.9"},
		{name: "multiple lines all trusted", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"10.3.3.3", "10.2.2.2"}, want: "10.3.3.3"},
		{name: "malformed entry stops walk", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9, garbage, 10.1.1.1"}, want: "10.1.1.1"},
		{name: "malformed rightmost keeps peer", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9, 1.2.3.4/80"}, want: "10.0.0.2"},
		// Proxies that write a port with the address: taking the entry for
		// garbage made every client the proxy itself, sharing one bucket.
		{name: "xff ipv4 with port", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9, 203.0.113.5:5678"}, want: "203.0.113.5"},
		{name: "xff ipv6 bracketed with port", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "xff ipv6 bracketed", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"[2001:db8::1]"}, want: "2001:db8::1"},
		{name: "xff trusted hop with port skipped", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"203.0.113.5:1234, 10.1.1.1:80"}, want: "203.0.113.5"},
		{name: "xff ipv4-mapped with port", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"[::ffff:203.0.113.5]:80"}, want: "203.0.113.5"},
		{name: "xff ipv4 in brackets refused", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"[203.0.113.5]:80"}, want: "10.0.0.2"},
		{name: "xff unknown refused", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"unknown"}, want: "10.0.0.2"},
		{name: "xff port out of range refused", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"203.0.113.5:70000"}, want: "10.0.0.2"},
		// RFC 7239 Forwarded.
		{name: "forwarded", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=192.0.2.60;proto=http;by=203.0.113.43"}, want: "192.0.2.60"},
		{name: "forwarded quoted ipv6 with port", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{`for="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "forwarded quoted ipv4 with port", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{`for="192.0.2.60:8080"`}, want: "192.0.2.60"},
		{name: "forwarded name case-insensitive", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"For=192.0.2.60"}, want: "192.0.2.60"},
		{name: "forwarded for not first", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"proto=https; FOR=192.0.2.60 ;by=10.0.0.2"}, want: "192.0.2.60"},
		{name: "forwarded spoofed left element ignored", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=1.2.3.4, for=192.0.2.60"}, want: "192.0.2.60"},
		{name: "forwarded trusted hops skipped", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=1.2.3.4, for=192.0.2.60", `for="10.1.1.1:80";proto=https`}, want: "192.0.2.60"},
		{name: "forwarded quoted escapes", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{`for="192.0.2.\60"`}, want: "192.0.2.60"},
		{name: "forwarded empty elements skipped", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=192.0.2.60, ,"}, want: "192.0.2.60"},
		{name: "forwarded unquoted ipv6 tolerated", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=2001:db8::1"}, want: "2001:db8::1"},
		{name: "forwarded ipv4-mapped", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{`for="[::ffff:192.0.2.60]"`}, want: "192.0.2.60"},
		{name: "forwarded unknown is not an address", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=192.0.2.60, for=unknown"}, want: "10.0.0.2"},
		{name: "forwarded obfuscated is not an address", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{`for=192.0.2.60, for="_hidden:_port"`}, want: "10.0.0.2"},
		{name: "forwarded element without for stops walk", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=192.0.2.60, proto=https"}, want: "10.0.0.2"},
		{name: "forwarded unknown left of client irrelevant", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=unknown, for=192.0.2.60"}, want: "192.0.2.60"},
		{name: "forwarded unterminated quote ignored", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{`for="1.2.3.4, for=192.0.2.60`}, want: "10.0.0.2"},
		{name: "forwarded duplicate for ignored", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"for=192.0.2.60;for=1.2.3.4"}, want: "10.0.0.2"},
		{name: "forwarded junk ignored", trusted: trusted, remote: "10.0.0.2:443", fwd: []string{"192.0.2.60"}, want: "10.0.0.2"},
		{name: "forwarded from untrusted peer ignored", trusted: trusted, remote: "203.0.113.7:5000", fwd: []string{"for=1.2.3.4"}, want: "203.0.113.7"},
		// Both headers: X-Forwarded-For wins, whatever Forwarded says.
		{name: "xff wins over forwarded", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9"}, fwd: []string{"for=1.2.3.4"}, want: "198.51.100.9"},
		{name: "empty entry stops walk", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"198.51.100.9,,10.1.1.1"}, want: "10.1.1.1"},
		{name: "malformed entry left of client irrelevant", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"garbage, 198.51.100.9"}, want: "198.51.100.9"},
		{name: "ipv4-mapped peer", remote: "[::ffff:203.0.113.7]:5000", want: "203.0.113.7"},
		{name: "ipv4-mapped trusted peer", trusted: trusted, remote: "[::ffff:10.0.0.2]:443", xff: []string{"198.51.100.9"}, want: "198.51.100.9"},
		{name: "ipv4-mapped xff entry", trusted: trusted, remote: "10.0.0.2:443", xff: []string{"::ffff:198.51.100.9"}, want: "198.51.100.9"},
		{name: "ipv6 peer", remote: "[2001:db8::1]:5000", want: "2001:db8::1"},
		{name: "ipv6 trusted chain", trusted: trusted, remote: "[fd00::1]:443", xff: []string{"2001:db8::5, fd12::1"}, want: "2001:db8::5"},
		{name: "zone dropped", trusted: "fe80::/10", remote: "[fe80::1%eth0]:443", xff: []string{"2001:db8::5"}, want: "2001:db8::5"},
		{name: "remote without port", remote: "203.0.113.7", want: "203.0.113.7"},
		{name: "unparsable remote", remote: "@", want: ""},
		{name: "empty remote", remote: "", xff: []string{"1.2.3.4"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClientIP(mustPrefixes(t, tt.trusted))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.fwd {
				r.Header.Add("Forwarded", v)
			}
			got := c.Addr(r)
			if tt.want == "" {
				if got.IsValid() {
					t.Errorf("Addr = %v, want zero", got)
				}
				return
			}
			if got.String() != tt.want {
				t.Errorf("Addr = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestClientIPScheme(t *testing.T) {
	trusted := "10.0.0.0/8"
	tests := []struct {
		name   string
		remote string
		tls    bool
		proto  []string
		want   string
	}{
		{name: "plain", remote: "203.0.113.7:1", want: "http"},
		{name: "tls", remote: "203.0.113.7:1", tls: true, want: "https"},
		{name: "forged proto from untrusted peer", remote: "203.0.113.7:1", proto: []string{"https"}, want: "http"},
		{name: "trusted proxy https", remote: "10.0.0.2:1", proto: []string{"https"}, want: "https"},
		{name: "trusted proxy case-insensitive", remote: "10.0.0.2:1", proto: []string{"HTTPS"}, want: "https"},
		{name: "trusted proxy http", remote: "10.0.0.2:1", proto: []string{"http"}, want: "http"},
		{name: "trusted proxy no header", remote: "10.0.0.2:1", want: "http"},
		{name: "rightmost value wins", remote: "10.0.0.2:1", proto: []string{"https, http"}, want: "http"},
		{name: "last line wins", remote: "10.0.0.2:1", proto: []string{"http", "https"}, want: "https"},
		{name: "unparsable remote", remote: "@", proto: []string{"https"}, want: "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClientIP(mustPrefixes(t, trusted))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, v := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			if got := c.Scheme(r); got != tt.want {
				t.Errorf("Scheme = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRateKey(t *testing.T) {
	tests := []struct {
		name string
		addr netip.Addr
		want string
	}{
		{name: "ipv4 is its own key", addr: netip.MustParseAddr("203.0.113.7"), want: "203.0.113.7"},
		{name: "ipv4-mapped unmapped", addr: netip.MustParseAddr("::ffff:203.0.113.7"), want: "203.0.113.7"},
		{name: "ipv6 grouped by /56", addr: netip.MustParseAddr("2001:db8:1:2ff:aaaa::1"), want: "2001:db8:1:200::/56"},
		{name: "zero addr", addr: netip.Addr{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RateKey(tt.addr); got != tt.want {
				t.Errorf("RateKey(%v) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestRateKeyIPv6Grouping(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "same /64", a: "2001:db8:0:1::1", b: "2001:db8:0:1::2", same: true},
		{name: "same /56 different /64", a: "2001:db8:0:100::1", b: "2001:db8:0:1ff:ffff::9", same: true},
		{name: "different /56", a: "2001:db8:0:100::1", b: "2001:db8:0:200::1", same: false},
		{name: "different ipv4", a: "203.0.113.7", b: "203.0.113.8", same: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := RateKey(netip.MustParseAddr(tt.a)), RateKey(netip.MustParseAddr(tt.b))
			if (ka == kb) != tt.same {
				t.Errorf("RateKey(%s) = %q, RateKey(%s) = %q; same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
		})
	}
}
