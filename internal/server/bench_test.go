package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/logging"
)

// discardWriter is a ResponseWriter that keeps nothing, so benchmarks
// measure the handler rather than httptest.ResponseRecorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkSecurityChain is the security middleware of every request
// (request ID, access log, recovery, headers, host check, rate limit) around a
// trivial handler, against the same handler bare.
func BenchmarkSecurityChain(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	log := logging.New(io.Discard, slog.LevelInfo, "json")
	clientIP := httpsec.NewClientIP(nil)
	limiter := httpsec.NewMemoryLimiter(httpsec.Rate{Limit: 1 << 30, Window: 15 * 60e9}, httpsec.MemoryOptions{})
	layers := []struct {
		name string
		mw   httpsec.Middleware
	}{
		{"RequestID", httpsec.RequestID()},
		{"AccessLog", logging.Middleware(log, clientIP)},
		{"Recover", httpsec.Recover(func(w http.ResponseWriter, r *http.Request, v any, stack []byte) {})},
		{"SecureHeaders", httpsec.SecureHeaders(httpsec.HeaderOptions{CSP: httpsec.APICSP, HSTS: true})},
		{"AllowedHosts", httpsec.AllowedHosts(httpsec.HostOptions{Hosts: []string{"blog.example", "blog.example:443"}})},
		{"RateLimit", httpsec.RateLimit(httpsec.RateLimitOptions{
			Limiter: limiter, Rate: httpsec.Rate{Limit: 1 << 30, Window: 15 * 60e9},
			Key: func(r *http.Request) string { return httpsec.RateKey(clientIP.Addr(r)) },
		})},
	}
	var all []httpsec.Middleware
	cases := []struct {
		name string
		h    http.Handler
	}{{"Bare", ok}}
	for _, l := range layers {
		all = append(all, l.mw)
		// Each layer alone, so the chain's cost can be attributed.
		cases = append(cases, struct {
			name string
			h    http.Handler
		}{"Only" + l.name, httpsec.Chain(ok, l.mw)})
	}
	cases = append(cases, struct {
		name string
		h    http.Handler
	}{"Chain", httpsec.Chain(ok, all...)})
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/ok", nil)
			req.RemoteAddr = "203.0.113.7:1234"
			req.Host = "blog.example"
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(&discardWriter{h: make(http.Header)}, req)
			}
		})
	}
}
