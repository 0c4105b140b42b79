package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestRateLimit is the tutorial's test: more than 100 requests in 15
// minutes → 429 {"error": "Too many requests, please try again later."}.
func TestRateLimit(t *testing.T) { apptest.ForEachStore(t, testRateLimit) }

func testRateLimit(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_RATE_LIMIT": "100/15m"})
	for i := 1; i <= 100; i++ {
		r := ts.Get(t, "/posts", "")
		wantStatus(t, r, http.StatusOK)
		if got := r.Header.Get("RateLimit"); got != fmt.Sprintf(`"100-in-15min"; r=%d; t=900`, 100-i) && got != fmt.Sprintf(`"100-in-15min"; r=%d; t=899`, 100-i) {
			t.Fatalf("request %d: RateLimit = %q", i, got)
		}
	}
	r := ts.Get(t, "/posts", "")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.ErrorText(t) != "Too many requests, please try again later." {
		t.Fatalf("body %s", r.Body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 900 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("RateLimit-Policy") != `"100-in-15min"; q=100; w=900` {
		t.Fatalf("RateLimit-Policy = %q", r.Header.Get("RateLimit-Policy"))
	}
	if r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatal("429 lacks security headers")
	}
	t.Run("EveryRouteCounts", func(t *testing.T) {
		wantStatus(t, ts.Get(t, "/nope", ""), http.StatusTooManyRequests)
		wantStatus(t, ts.Post(t, "/auth/login", "", map[string]string{"username": "a", "password": "b"}), http.StatusTooManyRequests)
	})
	t.Run("Logged", func(t *testing.T) {
		if !strings.Contains(ts.Logs.String(), `"event":"rate_limited"`) {
			t.Fatal("rate-limit hit not logged")
		}
	})
}

// TestForgedForwardedFor: without trusted proxies, X-Forwarded-For is
// ignored, so rotating it buys no requests.
func TestForgedForwardedFor(t *testing.T) { apptest.ForEachStore(t, testForgedForwardedFor) }

func testForgedForwardedFor(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_RATE_LIMIT": "5/15m"})
	for i := range 5 {
		r := ts.Do(t, request{Method: http.MethodGet, Path: "/posts", Header: map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)}})
		wantStatus(t, r, http.StatusOK)
	}
	r := ts.Do(t, request{Method: http.MethodGet, Path: "/posts", Header: map[string]string{"X-Forwarded-For": "198.51.100.99"}})
	wantStatus(t, r, http.StatusTooManyRequests)
}

// TestTrustedProxy: behind a configured proxy, each forwarded client has
// its own budget, spoofed entries to the left of the proxy's are ignored,
// and IPv6 clients are grouped by /56.
func TestTrustedProxy(t *testing.T) { apptest.ForEachStore(t, testTrustedProxy) }

func testTrustedProxy(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_RATE_LIMIT": "3/15m", "PALISADE_TRUSTED_PROXIES": "127.0.0.1/32, ::1/128"})
	via := func(xff string) int {
		return ts.Do(t, request{Method: http.MethodGet, Path: "/posts", Header: map[string]string{"X-Forwarded-For": xff}}).Status
	}
	for range 3 {
		if s := via("203.0.113.1"); s != http.StatusOK {
			t.Fatalf("status %d", s)
		}
	}
	t.Run("SameClientLimited", func(t *testing.T) {
		if s := via("203.0.113.1"); s != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", s)
		}
	})
	t.Run("SpoofedLeftEntryIgnored", func(t *testing.T) {
		// The client sends "X-Forwarded-For: 1.2.3.4"; the proxy appends
		// the real address. The real one is the client.
		if s := via("1.2.3.4, 203.0.113.1"); s != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", s)
		}
	})
	t.Run("OtherClientServed", func(t *testing.T) {
		if s := via("203.0.113.2"); s != http.StatusOK {
			t.Fatalf("status %d", s)
		}
	})
	t.Run("IPv6GroupedBy56", func(t *testing.T) {
		for i := range 3 {
			if s := via(fmt.Sprintf("2001:db8:0:ab%02x::1", i)); s != http.StatusOK {
				t.Fatalf("status %d", s)
			}
		}
		// Another address in the same /56 shares the budget…
		if s := via("2001:db8:0:abff::42"); s != http.StatusTooManyRequests {
			t.Fatalf("same /56: status %d, want 429", s)
		}
		// …another /56 has its own.
		if s := via("2001:db8:0:ac00::1"); s != http.StatusOK {
			t.Fatalf("other /56: status %d", s)
		}
	})
}

func TestHealthChecksNotRateLimited(t *testing.T) {
	apptest.ForEachStore(t, testHealthChecksNotRateLimited)
}

func testHealthChecksNotRateLimited(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_RATE_LIMIT": "2/15m"})
	for range 5 {
		wantStatus(t, ts.Get(t, "/healthz", ""), http.StatusOK)
		wantStatus(t, ts.Get(t, "/readyz", ""), http.StatusOK)
	}
	wantStatus(t, ts.Get(t, "/posts", ""), http.StatusOK)
	wantStatus(t, ts.Get(t, "/posts", ""), http.StatusOK)
	wantStatus(t, ts.Get(t, "/posts", ""), http.StatusTooManyRequests)
}
