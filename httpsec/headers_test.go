package httpsec

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSecureHeaders(t *testing.T) {
	base := map[string]string{
		"Content-Security-Policy":           HelmetCSP,
		"Cross-Origin-Opener-Policy":        "same-origin",
		"Cross-Origin-Resource-Policy":      "same-origin",
		"Origin-Agent-Cluster":              "?1",
		"Referrer-Policy":                   "no-referrer",
		"X-Content-Type-Options":            "nosniff",
		"X-DNS-Prefetch-Control":            "off",
		"X-Download-Options":                "noopen",
		"X-Frame-Options":                   "DENY",
		"X-Permitted-Cross-Domain-Policies": "none",
		"X-XSS-Protection":                  "0",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for bk, bv := range base {
			m[bk] = bv
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		opts    HeaderOptions
		want    map[string]string
		absent  []string
		handler http.HandlerFunc
	}{
		{
			name:   "helmet defaults",
			opts:   HeaderOptions{},
			want:   base,
			absent: []string{"Strict-Transport-Security", "Server", "X-Powered-By"},
		},
		{
			name: "hsts enabled",
			opts: HeaderOptions{HSTS: true},
			want: with("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
		},
		{
			name: "custom csp",
			opts: HeaderOptions{CSP: APICSP},
			want: with("Content-Security-Policy", APICSP),
		},
		{
			name: "handler overrides csp",
			opts: HeaderOptions{},
			want: with("Content-Security-Policy", APICSP),
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Security-Policy", APICSP)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := http.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			if tt.handler != nil {
				next = tt.handler
			}
			w := httptest.NewRecorder()
			SecureHeaders(tt.opts)(next).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			got := w.Result().Header
			for k, v := range tt.want {
				if vs := got.Values(k); len(vs) != 1 || vs[0] != v {
					t.Errorf("%s = %q, want [%q]", k, vs, v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := got[http.CanonicalHeaderKey(k)]; ok {
					t.Errorf("%s present: %q", k, v)
				}
			}
		})
	}
}

// TestSecureHeadersSharedValuesNotCorrupted checks that Add on one response
// can't write into the array the next response shares: if it could, the
// second Add would overwrite the first response's added value.
func TestSecureHeadersSharedValuesNotCorrupted(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{name: "csp", key: "Content-Security-Policy"},
		{name: "frame options", key: "X-Frame-Options"},
		{name: "hsts", key: "Strict-Transport-Security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw := SecureHeaders(HeaderOptions{HSTS: true})
			serve := func(added string) http.Header {
				w := httptest.NewRecorder()
				mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Add(tt.key, added)
				})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
				return w.Header()
			}
			first := serve("first")
			second := serve("second")
			if got := first.Values(tt.key); len(got) != 2 || got[1] != "first" {
				t.Errorf("first response %s = %q, want its own added value kept", tt.key, got)
			}
			if got := second.Values(tt.key); len(got) != 2 || got[1] != "second" || got[0] != first.Values(tt.key)[0] {
				t.Errorf("second response %s = %q", tt.key, got)
			}
			for _, f := range secureHeaderFields(HeaderOptions{HSTS: true}) {
				if len(f.value) != cap(f.value) {
					t.Errorf("%s: len %d != cap %d", f.key, len(f.value), cap(f.value))
				}
			}
		})
	}
}

func TestSecureHeadersRemovesServer(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{name: "server", key: "Server"},
		{name: "powered by", key: "X-Powered-By"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set(tt.key, "leaky/1.0")
			SecureHeaders(HeaderOptions{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).
				ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if v := w.Result().Header.Get(tt.key); v != "" {
				t.Errorf("%s = %q, want none", tt.key, v)
			}
		})
	}
}
