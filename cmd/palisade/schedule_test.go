package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/backup/schedule"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// TestServeTakesScheduledBackups: serve with PALISADE_BACKUP_DIR, whose
// newest backup is older than the interval, writes one at once, removes
// the one beyond PALISADE_BACKUP_KEEP, counts it in /metrics, and the
// backup restores.
func TestServeTakesScheduledBackups(t *testing.T) {
	src := t.TempDir()
	populate(t, src)
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, schedule.Name(time.Now().Add(-48*time.Hour), false))
	if err := os.WriteFile(old, []byte("an old backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PALISADE_DATA_DIR": src, "PALISADE_BACKUP_DIR": dir, "PALISADE_BACKUP_KEEP": "1", "PALISADE_METRICS": "on", "PALISADE_LOG_FORMAT": "json"}
	base, stop, logs := startServe(t, apptest.FreeAddr(t), env)
	var metrics string
	for deadline := time.Now().Add(time.Minute); !strings.Contains(metrics, "palisade_backup_last_duration_seconds 0.") || strings.Contains(metrics, "palisade_backup_last_success_timestamp_seconds 0\n"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no backup counted in /metrics:\n%s\n%s", metrics, logs)
		}
		metrics = apptest.NewClient(t, base).Get(t, "/metrics", "").Want(t, http.StatusOK).Text()
	}
	stopServe(t, stop)
	if !strings.Contains(metrics, "palisade_backup_failures_total 0\n") || !strings.Contains(logs.String(), `"msg":"scheduled backup written"`) {
		t.Fatalf("metrics:\n%s\nlogs:\n%s", metrics, logs)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() == filepath.Base(old) {
		t.Fatalf("the backup directory holds %v, want only the new backup", entries)
	}
	dst := t.TempDir()
	if _, errOut, err := cli(t, dst, strings.NewReader(""), "restore", filepath.Join(dir, entries[0].Name())); err != nil || !strings.Contains(errOut, "restore: 6 records") {
		t.Fatalf("restore of the scheduled backup: %v, %s", err, errOut)
	}
}

// TestServeRefusesABackupDirOthersMayWrite: serve does not start with a
// backup directory other users may write.
func TestServeRefusesABackupDirOthersMayWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_BACKUP_DIR": dir})
	err := run(context.Background(), []string{"serve", "--addr", apptest.FreeAddr(t)}, env, nil, io.Discard, io.Discard)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "PALISADE_BACKUP_DIR: ") || !strings.Contains(err.Error(), "other users") {
		t.Fatalf("err %v", err)
	}
}

// TestBackupKilledLeavesNoBackup runs the real "palisade backup" in a
// child process and SIGKILLs it while it writes: no file exists under the
// backup's name, and what it left behind, the partial file, is refused by
// restore, which restores nothing.
func TestBackupKilledLeavesNoBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large database and starts a child process")
	}
	src := t.TempDir()
	bigBlog(t, src)
	out := t.TempDir()
	file := filepath.Join(out, "blog.backup")
	cmd := exec.Command(os.Args[0], "backup", file, "--data-dir", src)
	cmd.Env = append(os.Environ(), "PALISADE_TEST_MAIN=1", "PALISADE_LOG_FORMAT=json")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // already gone unless the test failed
	var partial string
	for deadline := time.Now().Add(time.Minute); partial == ""; time.Sleep(time.Millisecond) {
		matches, err := filepath.Glob(file + ".partial-*")
		if err != nil {
			t.Fatal(err)
		}
		if len(matches) > 0 {
			partial = matches[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no partial file appeared:\n%s", stderr)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the backup was not killed (%v): it finished first; make the blog bigger\n%s", err, stderr)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("a killed backup left a file under its name: %v", err)
	}
	if _, err := os.Stat(partial); err != nil {
		t.Fatalf("the partial file: %v", err)
	}
	dst := t.TempDir()
	for _, f := range []string{partial, file} {
		_, errOut, err := cli(t, dst, strings.NewReader(""), "restore", f)
		if err == nil || exitCode(err) != 1 {
			t.Fatalf("restore %s: %v\n%s", f, err, errOut)
		}
		t.Logf("restore %s: %v", filepath.Base(f), err)
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(dst, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	if empty, err := store.Empty(t.Context()); err != nil || !empty {
		t.Fatalf("after refused restores the store is empty = %v, %v", empty, err)
	}
}

// bigBlog makes a SQLite blog in dir large enough (about 240 MB of posts; a backup of it takes about a second)
// that a backup of it is still being written when the test kills it.
func bigBlog(t *testing.T, dir string) {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	u, err := store.CreateUser(ctx, blog.NewUser{Username: "writer", PasswordHash: "hash", Role: blog.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	content := strings.TrimSpace(strings.Repeat("All work and no play \"quoted\" <b>. ", blog.ContentMax/36))
	for range 1200 {
		if _, err := store.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: "Long", Content: content, ContentHTML: "<p>" + content + "</p>"}); err != nil {
			t.Fatal(err)
		}
	}
}
