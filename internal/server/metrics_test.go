package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

func getBody(t *testing.T, url string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// /metrics is off unless switched on: it tells an outsider how busy the
// blog is and how often it is attacked.
func TestMetricsOffByDefault(t *testing.T) {
	s := apptest.Start(t, nil)
	if status, _, _ := getBody(t, s.URL+"/metrics", nil); status != http.StatusNotFound {
		t.Fatalf("GET /metrics = %d with metrics off, want 404", status)
	}
}

// Switched on, it counts requests by status class and security events by
// name, from the log stream; it is not rate limited (a scraper polls it) and carries the security
// headers like every response.
func TestMetricsCountRequestsAndEvents(t *testing.T) {
	s := apptest.Start(t, map[string]string{"PALISADE_METRICS": "on", "PALISADE_RATE_LIMIT": "5/15m"})
	for range 3 {
		getBody(t, s.URL+"/posts", nil) // 200
	}
	getBody(t, s.URL+"/posts/nope", nil) // 404
	for range 3 {
		getBody(t, s.URL+"/posts", nil) // the 5/15m limit: 1 more 200... then 429s
	}
	var first string
	for i := range 20 { // well past the limit: /metrics is exempt
		status, h, body := getBody(t, s.URL+"/metrics", nil)
		if i == 0 {
			first = body // counts the 7 requests before it, not itself
		}
		if status != http.StatusOK {
			t.Fatalf("GET /metrics = %d, want 200 (it must not be rate limited)", status)
		}
		if h.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET /metrics headers = %v", h)
		}
	}
	for _, want := range []string{
		`palisade_http_requests_total{code="2xx"} 4`,
		`palisade_http_requests_total{code="4xx"} 3`,
		`palisade_security_events_total{event="rate_limited"} 2`,
		`palisade_http_request_duration_seconds_count 7`,
		`palisade_http_request_duration_seconds_bucket{le="+Inf"} 7`,
		"# TYPE palisade_http_request_duration_seconds histogram",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("metrics lack %q:\n%s", want, first)
		}
	}
}
