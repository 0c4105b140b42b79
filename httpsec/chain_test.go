package httpsec

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// tag returns a middleware that records its name on the way in.
func tag(name string, trace *[]string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*trace = append(*trace, name)
			next.ServeHTTP(w, r)
		})
	}
}

func TestChain(t *testing.T) {
	tests := []struct {
		name  string
		names []string
	}{
		{name: "no middleware", names: nil},
		{name: "one", names: []string{"a"}},
		{name: "first is outermost", names: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace []string
			ms := make([]Middleware, 0, len(tt.names))
			for _, n := range tt.names {
				ms = append(ms, tag(n, &trace))
			}
			h := Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				trace = append(trace, "handler")
			}), ms...)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			want := append(slices.Clone(tt.names), "handler")
			if !slices.Equal(trace, want) {
				t.Errorf("order = %v, want %v", trace, want)
			}
		})
	}
}

func BenchmarkChain(b *testing.B) {
	lim := NewMemoryLimiter(Rate{Limit: 1 << 30, Window: time.Hour}, MemoryOptions{})
	ips := NewClientIP(nil)
	h := Chain(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }),
		RequestID(),
		Recover(func(w http.ResponseWriter, _ *http.Request, _ any, _ []byte) {
			w.WriteHeader(http.StatusInternalServerError)
		}),
		SecureHeaders(HeaderOptions{HSTS: true}),
		RateLimit(RateLimitOptions{
			Limiter: lim,
			Rate:    Rate{Limit: 1 << 30, Window: time.Hour},
			Key:     func(r *http.Request) string { return RateKey(ips.Addr(r)) },
		}),
	)
	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status = %d", w.Code)
		}
	}
}
