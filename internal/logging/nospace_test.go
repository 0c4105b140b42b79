package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestNoSpaceLogsOnce checks that a storm of failed writes on a full disk
// is one log line, and that another logger (another server) is not
// silenced by it.
func TestNoSpaceLogsOnce(t *testing.T) {
	var a, b bytes.Buffer
	logA, logB := New(&a, slog.LevelInfo, "json"), New(&b, slog.LevelInfo, "json")
	for range 100 {
		NoSpace(context.Background(), logA, "req", errors.New("database or disk is full"))
	}
	NoSpace(context.Background(), logB, "req", errors.New("database or disk is full"))
	if n := strings.Count(a.String(), "storage full"); n != 1 {
		t.Errorf("%d lines for 100 failures, want 1:\n%s", n, a.String())
	}
	if n := strings.Count(b.String(), "storage full"); n != 1 {
		t.Errorf("another logger wrote %d lines, want 1", n)
	}
}
