package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkRun is one invocation of wrk.
type wrkRun struct {
	url               string
	threads, conns    int
	duration, timeout time.Duration
	script            string   // Lua file, or "" for a plain GET
	headers           []string // "Name: value"
	env               []string // added to wrk's environment, for the scripts
}

// wrkResult is what one run measured.
type wrkResult struct {
	requests  int64
	elapsed   time.Duration
	reqPerSec float64
	p50, p99  time.Duration
	non2xx    int64 // responses outside 2xx and 3xx
	socket    socketErrors
	statuses  map[int]int64 // per status, from the scripts that count them (common.lua)
	wrkCPU    time.Duration // wrk's own user+system time
	output    string
}

type socketErrors struct{ connect, read, write, timeout int64 }

func (s socketErrors) total() int64 { return s.connect + s.read + s.write + s.timeout }

// errors counts failed requests: non-2xx/3xx answers and socket errors.
func (r *wrkResult) errors() int64 { return r.non2xx + r.socket.total() }

// wrkProc is a running wrk.
type wrkProc struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// seconds formats d as wrk reads durations: whole seconds, at least one.
func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Round(d.Seconds())))) + "s"
}

func (w wrkRun) args() []string {
	a := []string{
		"-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.conns),
		"-d", seconds(w.duration), "--timeout", seconds(w.timeout), "--latency",
	}
	if w.script != "" {
		a = append(a, "-s", w.script)
	}
	for _, h := range w.headers {
		a = append(a, "-H", h)
	}
	return append(a, w.url)
}

// start runs wrk in the background; wait collects its result.
func (w wrkRun) start(ctx context.Context, wrkPath string) (*wrkProc, error) {
	p := &wrkProc{cmd: exec.CommandContext(ctx, wrkPath, w.args()...)}
	p.cmd.Env = append(os.Environ(), w.env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start wrk: %w", err)
	}
	return p, nil
}

func (p *wrkProc) wait() (*wrkResult, error) {
	err := p.cmd.Wait()
	out := p.out.String()
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w\n%s", strings.Join(p.cmd.Args[1:], " "), err, out)
	}
	r, err := parseWrk(out)
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w\n%s", strings.Join(p.cmd.Args[1:], " "), err, out)
	}
	r.wrkCPU = p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	return r, nil
}

// run runs wrk to the end.
func (w wrkRun) run(ctx context.Context, wrkPath string) (*wrkResult, error) {
	p, err := w.start(ctx, wrkPath)
	if err != nil {
		return nil, err
	}
	return p.wait()
}

// What wrk --latency prints, for example:
//
//	  Latency Distribution
//	     50%    4.80ms
//	     99%   12.00ms
//	  125000 requests in 10.00s, 500.00MB read
//	  Socket errors: connect 0, read 0, write 0, timeout 3
//	  Non-2xx or 3xx responses: 12
//	Requests/sec:  12500.00
//
// and, from common.lua, one "status CODE COUNT" line per status seen.
var (
	reqsPerSec = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	reqsIn     = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+[a-z]+),`)
	percentile = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.0+)?%\s+([0-9.]+[a-z]+)\s*$`)
	socketErrs = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	non2xx     = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	statusLine = regexp.MustCompile(`(?m)^status (\d{3}) (\d+)$`)
)

// parseWrk reads wrk's report. wrk's durations ("850.00us", "4.80ms",
// "1.02s", "1.00m") are all in the syntax of time.ParseDuration.
func parseWrk(out string) (*wrkResult, error) {
	r := &wrkResult{output: out, statuses: map[int]int64{}}
	m := reqsPerSec.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no Requests/sec in wrk's output")
	}
	r.reqPerSec, _ = strconv.ParseFloat(m[1], 64)
	if m := reqsIn.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
		r.elapsed, _ = time.ParseDuration(m[2])
	}
	for _, m := range percentile.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return nil, fmt.Errorf("latency %q: %w", m[2], err)
		}
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := socketErrs.FindStringSubmatch(out); m != nil {
		n := make([]int64, 4)
		for i := range n {
			n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
		}
		r.socket = socketErrors{n[0], n[1], n[2], n[3]}
	}
	if m := non2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range statusLine.FindAllStringSubmatch(out, -1) {
		code, _ := strconv.Atoi(m[1])
		r.statuses[code], _ = strconv.ParseInt(m[2], 10, 64)
	}
	return r, nil
}
