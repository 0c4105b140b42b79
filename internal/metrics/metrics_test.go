package metrics

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/logging"
)

func scrape(t *testing.T, m *Registry) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Request lines are counted even when the log level drops them; only the
// wrapped handler decides what is written.
func TestCountsWhatTheLevelDrops(t *testing.T) {
	var out bytes.Buffer
	m := New()
	log := slog.New(m.WrapHandler(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})))
	log.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.Int("status", 201), slog.Int64(logging.DurationKey, (3*time.Millisecond).Microseconds()))
	log.With("app", "x").LogAttrs(context.Background(), slog.LevelWarn, "security", slog.String("event", "login.failure"))
	if out.Len() != 0 {
		t.Errorf("records below the level were written: %s", out.String())
	}
	got := scrape(t, m)
	for _, want := range []string{
		`palisade_http_requests_total{code="2xx"} 1`,
		`palisade_http_request_duration_seconds_bucket{le="0.0025"} 0`,
		`palisade_http_request_duration_seconds_bucket{le="0.005"} 1`,
		`palisade_http_request_duration_seconds_sum 0.003`,
		`palisade_security_events_total{event="login.failure"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}
	log.Error("boom")
	if !strings.Contains(out.String(), "boom") {
		t.Errorf("a record at the level was not written: %q", out.String())
	}
}

// A record with the expected keys but other kinds (a bug elsewhere) is
// counted as "other" rather than panicking.
func TestOddAttributeKinds(t *testing.T) {
	m := New()
	log := slog.New(m.WrapHandler(slog.DiscardHandler))
	log.Info("request", "status", "two hundred", logging.DurationKey, "long")
	if got := scrape(t, m); !strings.Contains(got, `palisade_http_requests_total{code="other"} 1`) {
		t.Errorf("metrics:\n%s", got)
	}
}

// Event names are escaped in labels and bounded in number.
func TestEventNamesEscapedAndBounded(t *testing.T) {
	m := New()
	m.CountEvent("a\"b\\c\nd")
	for i := range maxEvents * 2 {
		m.CountEvent(fmt.Sprint("event", i))
	}
	got := scrape(t, m)
	if !strings.Contains(got, `event="a\"b\\c\nd"} 1`) {
		t.Errorf("label not escaped:\n%s", got)
	}
	if n := strings.Count(got, "palisade_security_events_total{"); n > maxEvents+1 {
		t.Errorf("%d event series, want at most %d", n, maxEvents+1)
	}
	if !strings.Contains(got, `event="other"}`) {
		t.Errorf("no \"other\" series once the bound was reached:\n%s", got)
	}
}

// Each request served because the rate limit's store was out of reach is
// counted, so an operator can alert on a limit that is not being enforced.
func TestCountsRateLimitFailOpens(t *testing.T) {
	m := New()
	log := slog.New(m.WrapHandler(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	if got := scrape(t, m); !strings.Contains(got, "palisade_rate_limit_failed_open_total 0\n") {
		t.Errorf("the fail-open counter is not exposed at 0:\n%s", got)
	}
	for range 3 {
		log.Error(RateLimitFailedOpen, "error", "redis: unreachable")
	}
	log.Error("rate limiter busy") // shed with a 503: not a fail-open
	if got := scrape(t, m); !strings.Contains(got, "palisade_rate_limit_failed_open_total 3\n") {
		t.Errorf("metrics lack palisade_rate_limit_failed_open_total 3:\n%s", got)
	}
}

// Scheduled backups are counted from their log lines: the time and
// duration of the last one written, and the failures; no label.
func TestBackupMetrics(t *testing.T) {
	m := New()
	log := slog.New(m.WrapHandler(slog.DiscardHandler))
	got := scrape(t, m)
	for _, want := range []string{
		"palisade_backup_last_success_timestamp_seconds 0\n",
		"palisade_backup_last_duration_seconds 0\n",
		"palisade_backup_failures_total 0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("before any backup, metrics lack %q:\n%s", want, got)
		}
	}
	log.Error(BackupFailed, "step", "write the backup")
	log.Error(BackupFailed, "step", "take the backup lease")
	at := time.Date(2026, 11, 29, 23, 0, 0, 500_000_000, time.UTC)
	rec := slog.NewRecord(at, slog.LevelInfo, BackupWritten, 0)
	rec.AddAttrs(slog.Int64(logging.DurationKey, 1_250_000))
	if err := log.Handler().Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, m)
	for _, want := range []string{
		fmt.Sprintf("palisade_backup_last_success_timestamp_seconds %d.5\n", at.Unix()),
		"palisade_backup_last_duration_seconds 1.25\n",
		"palisade_backup_failures_total 2\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}
}
