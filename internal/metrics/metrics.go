// Package metrics counts what the logs say — requests by status class and
// time taken, security events by name — and serves the counts in
// Prometheus's text format (GET /metrics, when PALISADE_METRICS=on).
//
// It reads the log stream through a slog.Handler wrapper instead of hooks
// in the middleware, so nothing in the request path needs to know about
// it, and the counts can never disagree with the log lines they come from.
package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-blog/palisade/internal/logging"
)

// bounds are the histogram's upper bounds in seconds: a blog answers in
// milliseconds; sign-ins (argon2id) take tens of them.
var bounds = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// maxEvents bounds the distinct security event names kept; names come from
// our code, so this is never reached unless a bug logs user input as one.
const maxEvents = 64

// RateLimitFailedOpen is the message logged when a request is served
// because the general rate limit's store could not be reached (the limit
// fails open); each such line is counted as
// palisade_rate_limit_failed_open_total.
const RateLimitFailedOpen = "rate limiter unavailable"

// BackupWritten is the INFO line of each scheduled backup written, with
// its duration (logging.DurationKey); its time is counted as
// palisade_backup_last_success_timestamp_seconds and its duration as
// palisade_backup_last_duration_seconds.
const BackupWritten = "scheduled backup written"

// BackupFailed is the ERROR line of each scheduled backup that failed,
// counted as palisade_backup_failures_total.
const BackupFailed = "scheduled backup failed"

// Registry holds the counts. The zero value is not usable; call New.
type Registry struct {
	start      time.Time
	byClass    [6]atomic.Uint64 // index status/100 (1–5); 0 for anything else
	buckets    []atomic.Uint64  // requests at or under bounds[i]
	count      atomic.Uint64
	sumMicros  atomic.Uint64
	failedOpen atomic.Uint64

	backupFailures   atomic.Uint64
	backupLastMicros atomic.Int64 // Unix microseconds of the last backup written; 0 before one
	backupTookMicros atomic.Int64

	mu     sync.Mutex
	events map[string]*atomic.Uint64
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{start: time.Now(), buckets: make([]atomic.Uint64, len(bounds)), events: make(map[string]*atomic.Uint64)}
}

// ObserveRequest counts one answered request.
func (m *Registry) ObserveRequest(status int, took time.Duration) {
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	m.byClass[class].Add(1)
	secs := took.Seconds()
	for i, b := range bounds {
		if secs <= b {
			m.buckets[i].Add(1)
		}
	}
	m.count.Add(1)
	m.sumMicros.Add(uint64(max(0, took.Microseconds())))
}

// CountEvent counts one security event.
func (m *Registry) CountEvent(name string) {
	m.mu.Lock()
	c := m.events[name]
	if c == nil {
		if len(m.events) >= maxEvents {
			name = "other"
			c = m.events[name]
		}
		if c == nil {
			c = new(atomic.Uint64)
			m.events[name] = c
		}
	}
	m.mu.Unlock()
	c.Add(1)
}

// Handler serves the counts in the Prometheus text exposition format.
func (m *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = m.WriteTo(w) // fails only if the client went away
	})
}

// WriteTo writes every metric in the text exposition format.
func (m *Registry) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	b.WriteString("# HELP palisade_http_requests_total Requests answered, by status class.\n")
	b.WriteString("# TYPE palisade_http_requests_total counter\n")
	for class := 1; class <= 5; class++ {
		fmt.Fprintf(&b, "palisade_http_requests_total{code=\"%dxx\"} %d\n", class, m.byClass[class].Load())
	}
	fmt.Fprintf(&b, "palisade_http_requests_total{code=\"other\"} %d\n", m.byClass[0].Load())

	b.WriteString("# HELP palisade_http_request_duration_seconds Time from the request to its answer.\n")
	b.WriteString("# TYPE palisade_http_request_duration_seconds histogram\n")
	count := m.count.Load()
	for i, bound := range bounds {
		fmt.Fprintf(&b, "palisade_http_request_duration_seconds_bucket{le=\"%g\"} %d\n", bound, m.buckets[i].Load())
	}
	fmt.Fprintf(&b, "palisade_http_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", count)
	fmt.Fprintf(&b, "palisade_http_request_duration_seconds_sum %g\n", float64(m.sumMicros.Load())/1e6)
	fmt.Fprintf(&b, "palisade_http_request_duration_seconds_count %d\n", count)

	b.WriteString("# HELP palisade_security_events_total Security events logged (login.failure, csrf.rejected, rate_limited…), by event.\n")
	b.WriteString("# TYPE palisade_security_events_total counter\n")
	m.mu.Lock()
	names := make([]string, 0, len(m.events))
	for name := range m.events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "palisade_security_events_total{event=\"%s\"} %d\n", escapeLabel(name), m.events[name].Load())
	}
	m.mu.Unlock()

	b.WriteString("# HELP palisade_rate_limit_failed_open_total Requests served unlimited because the rate limit's store was unreachable.\n")
	b.WriteString("# TYPE palisade_rate_limit_failed_open_total counter\n")
	fmt.Fprintf(&b, "palisade_rate_limit_failed_open_total %d\n", m.failedOpen.Load())

	b.WriteString("# HELP palisade_backup_last_success_timestamp_seconds When the last scheduled backup was written, since the Unix epoch (0: none since start).\n")
	b.WriteString("# TYPE palisade_backup_last_success_timestamp_seconds gauge\n")
	fmt.Fprintf(&b, "palisade_backup_last_success_timestamp_seconds %s\n", strconv.FormatFloat(float64(m.backupLastMicros.Load())/1e6, 'f', -1, 64))
	b.WriteString("# HELP palisade_backup_last_duration_seconds How long the last scheduled backup written took.\n")
	b.WriteString("# TYPE palisade_backup_last_duration_seconds gauge\n")
	fmt.Fprintf(&b, "palisade_backup_last_duration_seconds %s\n", strconv.FormatFloat(float64(m.backupTookMicros.Load())/1e6, 'f', -1, 64))
	b.WriteString("# HELP palisade_backup_failures_total Scheduled backups that failed.\n")
	b.WriteString("# TYPE palisade_backup_failures_total counter\n")
	fmt.Fprintf(&b, "palisade_backup_failures_total %d\n", m.backupFailures.Load())

	b.WriteString("# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n")
	b.WriteString("# TYPE process_start_time_seconds gauge\n")
	fmt.Fprintf(&b, "process_start_time_seconds %d\n", m.start.Unix())
	b.WriteString("# HELP go_goroutines Goroutines that currently exist.\n")
	b.WriteString("# TYPE go_goroutines gauge\n")
	fmt.Fprintf(&b, "go_goroutines %d\n", runtime.NumGoroutine())
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// escapeLabel escapes a label value as the text format requires.
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// WrapHandler wraps h so that every request line ("request", with status and
// durationMicros), security event ("security", with event) and fail-open
// of the rate limit (RateLimitFailedOpen) and scheduled backup
// (BackupWritten, BackupFailed) logged through it is counted in m. Those records are counted even when h's level would
// drop them (PALISADE_LOG_LEVEL=warn, say); only h decides what is written.
func (m *Registry) WrapHandler(h slog.Handler) slog.Handler { return &handler{inner: h, m: m} }

type handler struct {
	inner slog.Handler
	m     *Registry
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.inner.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "request":
		status, took := 0, time.Duration(0)
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "status":
				if a.Value.Kind() == slog.KindInt64 {
					status = int(a.Value.Int64())
				}
			case logging.DurationKey:
				if a.Value.Kind() == slog.KindInt64 {
					took = time.Duration(a.Value.Int64()) * time.Microsecond
				}
			}
			return true
		})
		h.m.ObserveRequest(status, took)
	case RateLimitFailedOpen:
		h.m.failedOpen.Add(1)
	case BackupFailed:
		h.m.backupFailures.Add(1)
	case BackupWritten:
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == logging.DurationKey && a.Value.Kind() == slog.KindInt64 {
				h.m.backupTookMicros.Store(a.Value.Int64())
				return false
			}
			return true
		})
		at := r.Time
		if at.IsZero() {
			at = time.Now()
		}
		h.m.backupLastMicros.Store(at.UnixMicro())
	case "security":
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "event" {
				h.m.CountEvent(a.Value.String())
				return false
			}
			return true
		})
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{inner: h.inner.WithAttrs(attrs), m: h.m}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{inner: h.inner.WithGroup(name), m: h.m}
}
