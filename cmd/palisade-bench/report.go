package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is everything printed at the end.
type report struct {
	opts      *options
	rows      []*row
	pal, bare *server
	seeded    *seeded
	shape     shapeCheck
	writes    writeCheck
	logs      logSummary
	machine   machine
	elapsed   time.Duration
}

func (r *report) print(w io.Writer) {
	o, sd := r.opts, r.seeded
	fmt.Fprintf(w, "\n## Palisade load test\n\n")
	fmt.Fprintf(w, "Machine: %s.\n", r.machine)
	warm := "no warm-up"
	if o.warmup > 0 {
		warm = fmt.Sprintf("reads after a %v warm-up", o.warmup)
	}
	fmt.Fprintf(w, "Load: wrk -t%d -c%d, %v per scenario (%s), --latency, --timeout %v; wrk runs on the same machine as the servers.\n",
		o.threads, o.connections, o.duration, warm, o.timeout)
	bodies := "each unique"
	if sd.uniqueBodies < sd.posts {
		bodies = fmt.Sprintf("from a pool of %s", thousands(float64(sd.uniqueBodies)))
	}
	fmt.Fprintf(w, "Data: SQLite, %s users, %s posts of 1–2 KB Markdown (%s), seeded through the store in %v.\n",
		thousands(float64(sd.users)), thousands(float64(sd.posts)), bodies, sd.took.Round(100*time.Millisecond))
	fmt.Fprintf(w, "Palisade: PALISADE_ENV=production, logging at info (JSON, to a file), rate limits 1000000000/15m (counted, never refusing), SQLite.\n\n")

	fmt.Fprintln(w, "| scenario | server | req/s | ratio to reference | p50 | p99 | errors | CPU | RSS |")
	fmt.Fprintln(w, "|---|---|--:|---|--:|--:|--:|--:|--:|")
	for _, row := range r.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			row.scenario, row.server, thousands(row.rps()), r.ratio(row),
			latency(row, func(x *wrkResult) time.Duration { return x.p50 }),
			latency(row, func(x *wrkResult) time.Duration { return x.p99 }),
			errorsCell(row), cpuCell(row), rssCell(row))
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "- Cold start (process start → first 200 on GET /healthz): %d ms\n", r.pal.coldStart.Milliseconds())
	fmt.Fprintf(w, "- Idle RSS, 1 s after start: Palisade %s; bare reference %s (holding %s posts in memory)\n",
		mb(r.pal.idleRSSKB), mb(r.bare.idleRSSKB), thousands(float64(min(sd.posts, idSample))))
	fmt.Fprintf(w, "- CPU is %% of one core averaged over the run (utime+stime from /proc); RSS is VmRSS after the run (peak during it)\n")
	fmt.Fprintf(w, "- Errors are non-2xx/3xx answers plus socket errors (connect, read, write, timeout)\n")
	fmt.Fprintf(w, "- %s\n", r.writesLine())
	if r.writes.sessions == 0 {
		fmt.Fprintf(w, "- Website sessions stored after the run: 0 (anonymous GET / creates none)\n")
	} else {
		fmt.Fprintf(w, "- Website sessions stored after the run: %d\n", r.writes.sessions)
	}
	if r.shape.identical {
		fmt.Fprintf(w, "- GET /posts: Palisade and the reference send the same bytes (%s bytes, 20 posts)\n", thousands(float64(r.shape.palisadeBytes)))
	} else {
		fmt.Fprintf(w, "- GET /posts: bodies DIFFER (Palisade %d bytes, reference %d bytes)\n", r.shape.palisadeBytes, r.shape.referenceBytes)
	}
	fmt.Fprintf(w, "- %s\n", r.logLine())
	var wrkCPU, noisy []string
	for _, rw := range r.rows {
		if rw.res == nil {
			continue
		}
		wrkCPU = append(wrkCPU, fmt.Sprintf("%s on %s %.0f%%", rw.scenario, rw.server, rw.wrkPct))
		if rw.otherPct >= noisyPct || rw.use.stealPct >= noisyPct {
			noisy = append(noisy, fmt.Sprintf("%s on %s (others %.0f%%, steal %.0f%%)", rw.scenario, rw.server, rw.otherPct, rw.use.stealPct))
		}
	}
	if len(wrkCPU) > 0 {
		fmt.Fprintf(w, "- wrk's own CPU (%% of one core; it shares the machine): %s\n", strings.Join(wrkCPU, "; "))
	}
	if len(noisy) > 0 {
		fmt.Fprintf(w, "- NOISY: other processes (or the hypervisor) used at least %d%% of a core during: %s. Rerun on a quiet machine for figures to quote.\n", noisyPct, strings.Join(noisy, "; "))
	} else if len(wrkCPU) > 0 {
		fmt.Fprintf(w, "- Quiet machine: other processes and steal stayed under %d%% of a core in every run\n", noisyPct)
	}
	fmt.Fprintf(w, "- Whole run (install check, build, seed, scenarios): %v\n", r.elapsed.Round(time.Second))
}

// noisyPct is the CPU (% of one core) other processes may use during a
// run before the report calls it noisy.
const noisyPct = 15

// ratio compares a row with its reference row and with the Express figure.
func (r *report) ratio(rw *row) string {
	if rw.res == nil {
		return "— (quoted figure)"
	}
	if rw.reference {
		return "reference"
	}
	var parts []string
	if rw.ref != "" {
		i := slices.IndexFunc(r.rows, func(x *row) bool { return x.key == rw.ref })
		if i >= 0 && r.rows[i].rps() > 0 {
			parts = append(parts, fmt.Sprintf("%.2f× %s", rw.rps()/r.rows[i].rps(), rw.refLabel))
		}
	}
	if rw.express > 0 {
		parts = append(parts, fmt.Sprintf("%.2f× Express", rw.rps()/rw.express))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}

func (r *report) writesLine() string {
	c := r.writes
	if c.created == 0 && c.extra() == 0 {
		return fmt.Sprintf("Writes: none in this run; %s posts in the database as seeded", thousands(float64(c.inDB)))
	}
	verdict := "no write lost"
	if !c.ok() {
		verdict = fmt.Sprintf("%d ACKNOWLEDGED WRITES LOST", -c.extra())
	}
	s := fmt.Sprintf("Writes: %s seeded + %s answered 201 = %s expected; %s posts in the database after stopping Palisade: %s",
		thousands(float64(c.seeded)), thousands(float64(c.created)), thousands(float64(c.seeded+c.created)), thousands(float64(c.inDB)), verdict)
	if c.extra() > 0 {
		s += fmt.Sprintf(" (%d more than acknowledged: requests in flight when wrk stopped, whose answers it never read; at most %d per writing run)", c.extra(), c.conns)
	}
	return s
}

func (r *report) logLine() string {
	l := r.logs
	if l.err != nil {
		return "Palisade log: " + l.err.Error()
	}
	s := fmt.Sprintf("Palisade log: %s in %s lines (%s request lines, %.0f bytes each)", mb(l.bytes/1024), thousands(float64(l.lines)), thousands(float64(l.requests)), float64(l.bytes)/float64(max(1, l.lines)))
	if l.responses5xx > 0 {
		s += fmt.Sprintf("; %s answers were 5xx", thousands(float64(l.responses5xx)))
	}
	s += fmt.Sprintf("; %d other errors, %d warnings", l.errors, l.warnings)
	kinds := slices.SortedFunc(maps.Keys(l.errorKinds), func(a, b string) int { return cmp.Compare(l.errorKinds[b], l.errorKinds[a]) })
	for i, k := range kinds {
		if i == 3 {
			s += fmt.Sprintf("; %d more kinds", len(kinds)-3)
			break
		}
		s += fmt.Sprintf("; %s × %q", thousands(float64(l.errorKinds[k])), k)
	}
	return s
}

func latency(row *row, f func(*wrkResult) time.Duration) string {
	if row.res == nil {
		return "—"
	}
	d := f(row.res)
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func errorsCell(row *row) string {
	if row.res == nil {
		return "—"
	}
	res := row.res
	var detail []string
	codes := make([]int, 0, len(res.statuses))
	for code := range res.statuses {
		if code >= 400 {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	for _, code := range codes {
		detail = append(detail, fmt.Sprintf("%d×%s", code, thousands(float64(res.statuses[code]))))
	}
	if len(codes) == 0 && res.non2xx > 0 {
		detail = append(detail, fmt.Sprintf("non-2xx×%d", res.non2xx))
	}
	for _, e := range []struct {
		name string
		n    int64
	}{{"connect", res.socket.connect}, {"read", res.socket.read}, {"write", res.socket.write}, {"timeout", res.socket.timeout}} {
		if e.n > 0 {
			detail = append(detail, fmt.Sprintf("%s×%d", e.name, e.n))
		}
	}
	n := thousands(float64(res.errors()))
	if len(detail) == 0 {
		return n
	}
	return n + " (" + strings.Join(detail, ", ") + ")"
}

func cpuCell(row *row) string {
	if row.res == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", row.use.cpuPct)
}

func rssCell(row *row) string {
	if row.res == nil {
		return "—"
	}
	return fmt.Sprintf("%s (peak %s)", mb(row.use.rssKB), strings.TrimSuffix(mb(row.use.peakRSSKB), " MB"))
}

// mb formats KiB as MB with one decimal (MiB, as /proc counts).
func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// thousands formats a count or rate without decimals and with commas.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// machine describes where the run happened.
type machine struct {
	nproc            int
	model            string
	memTotal, kernel string
	goVersion, wrk   string
	gomaxprocs       string
	loadavg          string // 1, 5 and 15 minutes, before the servers started
}

func (m machine) String() string {
	s := fmt.Sprintf("%d × %s (nproc %d), %s RAM, Linux %s; %s; %s", m.nproc, m.model, m.nproc, m.memTotal, m.kernel, m.goVersion, m.wrk)
	if m.gomaxprocs != "" {
		s += "; GOMAXPROCS=" + m.gomaxprocs
	}
	if m.loadavg != "" {
		s += "; load average before the run " + m.loadavg
	}
	return s
}

func describeMachine(ctx context.Context, wrkPath string) machine {
	m := machine{nproc: runtime.NumCPU(), model: "unknown CPU", memTotal: "?", kernel: "?", goVersion: runtime.Version(), wrk: "wrk", gomaxprocs: os.Getenv("GOMAXPROCS")}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.model = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			m.memTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.loadavg = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	// wrk -v prints its version and exits with status 1.
	out, _ := exec.CommandContext(ctx, wrkPath, "-v").CombinedOutput()
	if first, _, _ := strings.Cut(string(out), "\n"); strings.HasPrefix(first, "wrk ") {
		if f := strings.Fields(first); len(f) >= 2 {
			m.wrk = "wrk " + f[1]
		}
	}
	return m
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
