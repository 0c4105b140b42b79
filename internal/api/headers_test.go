package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// helmetDefaults are the headers helmet 8 sets by default, with the
// tutorial's X-Frame-Options: DENY.
var helmetDefaults = map[string]string{
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
	"Content-Security-Policy":           "default-src 'none'; frame-ancestors 'none'",
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	ts := newServer(t, nil)
	token := ts.SignUp(t, "alice")
	responses := map[string]*response{
		"List":         ts.Get(t, "/posts", ""),
		"NotFound":     ts.Get(t, "/nope", ""),
		"Unauthorized": ts.Get(t, "/users/me", ""),
		"Validation":   ts.Post(t, "/posts", token, map[string]string{"title": "x"}),
		"Me":           ts.Get(t, "/users/me", token),
		"Health":       ts.Get(t, "/healthz", ""),
	}
	for name, r := range responses {
		t.Run(name, func(t *testing.T) {
			for h, want := range helmetDefaults {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			for _, banner := range []string{"Server", "X-Powered-By"} {
				if r.Header.Get(banner) != "" {
					t.Errorf("banner header %s: %q", banner, r.Header.Get(banner))
				}
			}
			if r.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS sent in development over plain HTTP")
			}
			if r.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
	t.Run("AuthenticatedNotCached", func(t *testing.T) {
		if responses["Me"].Header.Get("Cache-Control") != "no-store" {
			t.Fatal("authenticated response lacks Cache-Control: no-store")
		}
	})
}

func TestHSTSInProduction(t *testing.T) {
	ts := newServer(t, map[string]string{
		"PALISADE_ENV":            "production",
		"PALISADE_BASE_URL":       "https://blog.example",
		"PALISADE_SESSION_SECRET": apptest.NewSecret(),
	})
	r := ts.Get(t, "/healthz", "")
	if got := r.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
		t.Fatalf("HSTS = %q", got)
	}
}

func TestCORS(t *testing.T) {
	preflight := func(ts *testServer, origin string) *response {
		return ts.Do(t, request{Method: http.MethodOptions, Path: "/posts", Header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}})
	}
	t.Run("NoneByDefault", func(t *testing.T) {
		ts := newServer(t, nil)
		r := ts.Do(t, request{Method: http.MethodGet, Path: "/posts", Header: map[string]string{"Origin": "https://evil.example"}})
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("cross-origin read allowed by default: %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		if preflight(ts, "https://evil.example").Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("preflight allowed by default")
		}
	})
	ts := newServer(t, map[string]string{"PALISADE_CORS_ORIGINS": "https://app.example"})
	t.Run("AllowedOrigin", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodGet, Path: "/posts", Header: map[string]string{"Origin": "https://app.example"}})
		if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Fatalf("ACAO = %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		if r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatal("credentials allowed cross-origin")
		}
		p := preflight(ts, "https://app.example")
		if p.Status >= 300 || p.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			!strings.Contains(strings.ToLower(p.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Fatalf("preflight: %d %v", p.Status, p.Header)
		}
	})
	t.Run("OtherOriginRefused", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "https://app.example.evil.example", "null", "http://app.example"} {
			r := ts.Do(t, request{Method: http.MethodGet, Path: "/posts", Header: map[string]string{"Origin": origin}})
			if r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("origin %q allowed", origin)
			}
			if preflight(ts, origin).Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("preflight from %q allowed", origin)
			}
		}
	})
}
