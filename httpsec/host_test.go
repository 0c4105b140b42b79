package httpsec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAllowedHosts(t *testing.T) {
	production := HostOptions{Hosts: []string{"blog.example.com", "blog.example.com:443"}}
	development := HostOptions{Hosts: []string{"dev.example"}, AnyPort: true, Loopback: true}
	ipv6Base := HostOptions{Hosts: []string{"[2001:DB8::1]:8443"}}
	skipHealth := HostOptions{Hosts: []string{"blog.example.com"}, Skip: func(r *http.Request) bool { return r.URL.Path == "/healthz" }}
	tests := []struct {
		name string
		opts HostOptions
		host string
		path string
		want int
	}{
		{name: "production name", opts: production, host: "blog.example.com", want: 200},
		{name: "production name with default port", opts: production, host: "blog.example.com:443", want: 200},
		{name: "production name in capitals with a trailing dot", opts: production, host: "BLOG.Example.com.", want: 200},
		// DNS rebinding: the attacker's name, pointed at this server.
		{name: "rebinding name refused", opts: production, host: "attacker.example", want: 421},
		{name: "rebinding name with our port refused", opts: production, host: "attacker.example:443", want: 421},
		{name: "other port refused", opts: production, host: "blog.example.com:8080", want: 421},
		{name: "suffix trick refused", opts: production, host: "blog.example.com.attacker.example", want: 421},
		{name: "prefix trick refused", opts: production, host: "evilblog.example.com", want: 421},
		{name: "loopback refused in production", opts: production, host: "127.0.0.1:3000", want: 421},
		{name: "localhost refused in production", opts: production, host: "localhost", want: 421},
		{name: "empty host refused", opts: production, host: "", want: 421},
		{name: "malformed port refused", opts: production, host: "blog.example.com:x", want: 421},
		{name: "ipv6 base", opts: ipv6Base, host: "[2001:db8::1]:8443", want: 200},
		{name: "ipv6 base other port refused", opts: ipv6Base, host: "[2001:db8::1]:443", want: 421},
		{name: "bare ipv6 refused", opts: ipv6Base, host: "2001:db8::1", want: 421},
		{name: "development base name any port", opts: development, host: "dev.example:3000", want: 200},
		{name: "development localhost", opts: development, host: "localhost:3000", want: 200},
		{name: "development sub.localhost", opts: development, host: "app.localhost:8080", want: 200},
		{name: "development 127.0.0.0/8", opts: development, host: "127.0.0.2:41234", want: 200},
		{name: "development ::1", opts: development, host: "[::1]:3000", want: 200},
		{name: "development rebinding name refused", opts: development, host: "attacker.example:3000", want: 421},
		{name: "development localhost suffix trick refused", opts: development, host: "localhost.attacker.example", want: 421},
		{name: "development private address refused", opts: development, host: "192.168.1.10:3000", want: 421},
		{name: "skipped path on any host", opts: skipHealth, host: "10.0.0.5:3000", path: "/healthz", want: 200},
		{name: "other path on that host refused", opts: skipHealth, host: "10.0.0.5:3000", path: "/posts", want: 421},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }),
				SecureHeaders(HeaderOptions{}), AllowedHosts(tt.opts))
			path := tt.path
			if path == "" {
				path = "/"
			}
			r := httptest.NewRequest(http.MethodGet, path, nil)
			r.Host = tt.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Fatalf("Host %q: status %d, want %d", tt.host, rec.Code, tt.want)
			}
			if rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Fatal("security headers missing")
			}
			if tt.want == 421 {
				if body := rec.Body.String(); len(body) > 200 || !strings.Contains(body, "Misdirected") {
					t.Fatalf("body %q", body)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Fatalf("Content-Type %q", ct)
				}
			}
		})
	}
}
