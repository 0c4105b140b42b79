package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestBackupUsage(t *testing.T) {
	for _, args := range [][]string{
		{"backup"}, {"restore"}, {"backup", "--data-dir", "x"}, {"backup", "f", "--nope"}, {"restore", "f", "--nope"},
		{"backup", "f", "--age-recipient"}, {"backup", "f", "--age-recipient", "AGE-SECRET-KEY-1NOTAPUBLICKEY"},
		{"restore", "f", "--age-identity"}, {"backup", "f", "stray"},
	} {
		wantUsageMistake(t, args)
	}
	for _, cmd := range []string{"backup", "restore"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{cmd, "--help"}, nil, strings.NewReader(""), &out, &errOut); err != nil ||
			!strings.Contains(out.String(), "palisade restore FILE") || errOut.Len() != 0 {
			t.Errorf("%s --help: %v, stdout %q, stderr %q", cmd, err, out.String(), errOut.String())
		}
	}
}

func TestBackupRecipientsVariableChecked(t *testing.T) {
	var errOut bytes.Buffer
	env := envOf(map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_BACKUP_AGE_RECIPIENTS": "age1nope"})
	err := run(context.Background(), []string{"backup", "x"}, env, strings.NewReader(""), &bytes.Buffer{}, &errOut)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "PALISADE_BACKUP_AGE_RECIPIENTS: not an age public key") {
		t.Fatalf("err %v (exit %d)", err, exitCode(err))
	}
	if strings.Contains(errOut.String(), "unknown variable") {
		t.Errorf("the recipients variable is reported unknown:\n%s", errOut.String())
	}
}

// TestProgress drives the progress line with a clock the test moves: it
// is redrawn at most four times a second, and says done of total, the
// rate and the time left.
func TestProgress(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &out, on: true, verb: "backup", total: 100, now: func() time.Time { return clock }, redraw: time.Second / 4}
	p.start = clock
	clock = clock.Add(time.Second)
	p.update(10)
	clock = clock.Add(100 * time.Millisecond)
	p.update(11) // too soon: not drawn
	clock = clock.Add(200 * time.Millisecond)
	p.update(13)
	p.clear()
	lines := strings.Split(out.String(), "\r")
	want := []string{"", "backup: 10 of 100 records, 10/s, about 9s left\x1b[K", "backup: 13 of 100 records, 10/s, about 9s left\x1b[K", "\x1b[K"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("progress drew %q, want %q", lines, want)
	}
	var pipe bytes.Buffer
	q := newProgress(&pipe, "backup", 3)
	q.update(1)
	q.clear()
	if pipe.Len() != 0 {
		t.Errorf("progress in a pipe: %q", pipe.String())
	}
}
