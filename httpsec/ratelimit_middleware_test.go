package httpsec

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// stubLimiter returns a fixed outcome, for paths the memory limiter can't
// produce (errors, odd decisions).
type stubLimiter struct {
	d   Decision
	err error
}

func (s stubLimiter) Take(context.Context, string) (Decision, error) { return s.d, s.err }
func (s stubLimiter) Peek(context.Context, string) (Decision, error) { return s.d, s.err }
func (s stubLimiter) Reset(context.Context, string) error            { return s.err }
func (s stubLimiter) Refund(context.Context, string) error           { return s.err }

func TestPolicyName(t *testing.T) {
	tests := []struct {
		name string
		rate Rate
		want string
	}{
		{name: "minutes", rate: Rate{Limit: 100, Window: 15 * time.Minute}, want: "100-in-15min"},
		{name: "hours", rate: Rate{Limit: 10, Window: time.Hour}, want: "10-in-1h"},
		{name: "a day in hours", rate: Rate{Limit: 2, Window: 24 * time.Hour}, want: "2-in-24h"},
		{name: "seconds", rate: Rate{Limit: 5, Window: 30 * time.Second}, want: "5-in-30s"},
		{name: "not whole minutes", rate: Rate{Limit: 5, Window: 90 * time.Second}, want: "5-in-90s"},
		{name: "fraction rounds up", rate: Rate{Limit: 1, Window: 1500 * time.Millisecond}, want: "1-in-2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PolicyName(tt.rate); got != tt.want {
				t.Errorf("PolicyName(%v) = %q, want %q", tt.rate, got, tt.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	rate := Rate{Limit: 2, Window: time.Minute}
	const policy = `"2-in-1min"; q=2; w=60`
	teapot := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	type request struct {
		advance    time.Duration
		key        string
		wantStatus int
		wantState  string // RateLimit header
		wantRetry  string // Retry-After header, "" for none
	}
	tests := []struct {
		name      string
		onLimited http.Handler
		requests  []request
	}{
		{
			name: "allowed then refused",
			requests: []request{
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=1; t=60`},
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=0; t=60`},
				{key: "a", wantStatus: 429, wantState: `"2-in-1min"; r=0; t=60`, wantRetry: "60"},
			},
		},
		{
			name: "seconds round up",
			requests: []request{
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=1; t=60`},
				{advance: 30500 * time.Millisecond, key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=0; t=30`},
				{advance: 29 * time.Second, key: "a", wantStatus: 429, wantState: `"2-in-1min"; r=0; t=1`, wantRetry: "1"},
				{advance: 500 * time.Millisecond, key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=1; t=60`},
			},
		},
		{
			name: "keys are separate",
			requests: []request{
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=1; t=60`},
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=0; t=60`},
				{key: "b", wantStatus: 200, wantState: `"2-in-1min"; r=1; t=60`},
			},
		},
		{
			name:      "on limited writes the status",
			onLimited: teapot,
			requests: []request{
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=1; t=60`},
				{key: "a", wantStatus: 200, wantState: `"2-in-1min"; r=0; t=60`},
				{key: "a", wantStatus: http.StatusTeapot, wantState: `"2-in-1min"; r=0; t=60`, wantRetry: "60"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			mw := RateLimit(RateLimitOptions{
				Limiter:   NewMemoryLimiter(rate, MemoryOptions{Now: clock.Now}),
				Rate:      rate,
				Key:       func(r *http.Request) string { return r.Header.Get("Client") },
				OnLimited: tt.onLimited,
			})
			h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			for i, rq := range tt.requests {
				clock.Advance(rq.advance)
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Client", rq.key)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				res := w.Result()
				if res.StatusCode != rq.wantStatus {
					t.Errorf("request %d: status %d, want %d", i, res.StatusCode, rq.wantStatus)
				}
				if got := res.Header.Get("RateLimit-Policy"); got != policy {
					t.Errorf("request %d: RateLimit-Policy %q, want %q", i, got, policy)
				}
				if got := res.Header.Get("RateLimit"); got != rq.wantState {
					t.Errorf("request %d: RateLimit %q, want %q", i, got, rq.wantState)
				}
				if got := res.Header.Get("Retry-After"); got != rq.wantRetry {
					t.Errorf("request %d: Retry-After %q, want %q", i, got, rq.wantRetry)
				}
			}
		})
	}
}

func TestRateLimitStubDecisions(t *testing.T) {
	rate := Rate{Limit: 5, Window: time.Minute}
	boom := errors.New("redis down")
	tests := []struct {
		name       string
		limiter    stubLimiter
		onError    func(http.ResponseWriter, *http.Request, error) bool
		wantStatus int
		wantNext   bool
		wantState  string
		wantRetry  string
	}{
		{
			name:       "error fails open by default",
			limiter:    stubLimiter{err: boom},
			wantStatus: 200,
			wantNext:   true,
		},
		{
			name:    "error handler fails open",
			limiter: stubLimiter{err: boom},
			onError: func(_ http.ResponseWriter, _ *http.Request, err error) bool {
				return errors.Is(err, boom)
			},
			wantStatus: 200,
			wantNext:   true,
		},
		{
			name:    "error handler fails closed",
			limiter: stubLimiter{err: boom},
			onError: func(w http.ResponseWriter, _ *http.Request, _ error) bool {
				w.WriteHeader(http.StatusServiceUnavailable)
				return false
			},
			wantStatus: http.StatusServiceUnavailable,
		},
		{
			name:       "refused with no reset time still says retry after 1s",
			limiter:    stubLimiter{d: Decision{Allowed: false, Limit: 5}},
			wantStatus: 429,
			wantState:  `"5-in-1min"; r=0; t=0`,
			wantRetry:  "1",
		},
		{
			name:       "negative remaining is shown as zero",
			limiter:    stubLimiter{d: Decision{Allowed: true, Limit: 5, Remaining: -3, ResetAfter: time.Second}},
			wantStatus: 200,
			wantNext:   true,
			wantState:  `"5-in-1min"; r=0; t=1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nextCalled := false
			h := RateLimit(RateLimitOptions{
				Limiter: tt.limiter,
				Rate:    rate,
				Key:     func(*http.Request) string { return "k" },
				OnError: tt.onError,
			})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { nextCalled = true }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if nextCalled != tt.wantNext {
				t.Errorf("next called = %v, want %v", nextCalled, tt.wantNext)
			}
			if got := w.Header().Get("RateLimit"); got != tt.wantState {
				t.Errorf("RateLimit %q, want %q", got, tt.wantState)
			}
			if got := w.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
		})
	}
}

func TestRateLimitRequiresLimiterAndKey(t *testing.T) {
	tests := []struct {
		name string
		opts RateLimitOptions
	}{
		{name: "no limiter", opts: RateLimitOptions{Key: func(*http.Request) string { return "" }}},
		{name: "no key", opts: RateLimitOptions{Limiter: stubLimiter{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			RateLimit(tt.opts)
		})
	}
}

func TestRateLimitSkip(t *testing.T) {
	l := NewMemoryLimiter(Rate{Limit: 1, Window: time.Minute}, MemoryOptions{})
	h := RateLimit(RateLimitOptions{
		Limiter: l, Rate: Rate{Limit: 1, Window: time.Minute},
		Key:  func(*http.Request) string { return "k" },
		Skip: func(r *http.Request) bool { return r.URL.Path == "/healthz" },
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	for range 5 {
		if code := get("/healthz"); code != http.StatusOK {
			t.Fatalf("skipped path limited: %d", code)
		}
	}
	if get("/posts") != http.StatusOK || get("/posts") != http.StatusTooManyRequests {
		t.Fatal("skipping one path changed the limit of others")
	}
}

// TestRateLimitBehindProxyWithPorts: behind a trusted proxy that writes the
// client's port with its address, each client keeps its own count. Taking
// such entries for garbage made every client the proxy, so one client
// using up the limit refused everyone.
func TestRateLimitBehindProxyWithPorts(t *testing.T) {
	rate := Rate{Limit: 2, Window: time.Minute}
	clientIP := NewClientIP(mustPrefixes(t, "10.0.0.0/8"))
	h := RateLimit(RateLimitOptions{
		Limiter: NewMemoryLimiter(rate, MemoryOptions{}), Rate: rate,
		Key: func(r *http.Request) string { return RateKey(clientIP.Addr(r)) },
	})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	via := func(header, value string) int {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.2:40000"
		r.Header.Set(header, value)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	for i, want := range []int{200, 200, 429} {
		if got := via("X-Forwarded-For", "203.0.113.5:1111"); got != want {
			t.Fatalf("first client, request %d: %d, want %d", i+1, got, want)
		}
	}
	for _, tt := range []struct{ header, value string }{
		{"X-Forwarded-For", "203.0.113.6:2222"},
		{"X-Forwarded-For", "[2001:db8::6]:443"},
		{"Forwarded", `for="[2001:db8:1::7]:4711";proto=https`},
		{"Forwarded", "for=198.51.100.8"},
	} {
		if got := via(tt.header, tt.value); got != http.StatusOK {
			t.Fatalf("another client (%s: %s) refused with %d after the first used up its limit", tt.header, tt.value, got)
		}
	}
}
