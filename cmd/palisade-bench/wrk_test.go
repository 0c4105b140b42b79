package main

import (
	"testing"
	"time"
)

// wrk 4.1.0's report with --latency and common.lua's status lines.
const wrkSample = `Running 10s test @ http://127.0.0.1:41587/posts
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    28.17ms   30.01ms 400.00ms   88.00%
    Req/Sec     1.04k   200.00     1.50k    70.00%
  Latency Distribution
     50%  850.00us
     75%   35.00ms
     90%   60.00ms
     99%    1.02s
  20610 requests in 10.01s, 1.83GB read
  Socket errors: connect 0, read 1, write 0, timeout 3
  Non-2xx or 3xx responses: 12
Requests/sec:   2061.00
Transfer/sec:    187.00MB
status 201 20598
status 503 12
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 20610, elapsed: 10010 * time.Millisecond, reqPerSec: 2061, p50: 850 * time.Microsecond, p99: 1020 * time.Millisecond, non2xx: 12}
	if r.requests != want.requests || r.elapsed != want.elapsed || r.reqPerSec != want.reqPerSec || r.p50 != want.p50 || r.p99 != want.p99 || r.non2xx != want.non2xx {
		t.Errorf("parseWrk = %+v, want %+v", *r, want)
	}
	if r.socket != (socketErrors{read: 1, timeout: 3}) || r.errors() != 16 {
		t.Errorf("socket errors %+v, errors() %d; want read 1, timeout 3, 16 in all", r.socket, r.errors())
	}
	if r.statuses[201] != 20598 || r.statuses[503] != 12 || len(r.statuses) != 2 {
		t.Errorf("statuses %v", r.statuses)
	}
}

func TestParseWrkWithoutReport(t *testing.T) {
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("parseWrk accepted output without Requests/sec")
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 2743.4: "2,743", 1002016: "1,002,016", -1234: "-1,234"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
