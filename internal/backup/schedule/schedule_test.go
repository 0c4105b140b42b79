package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/backup"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/metrics"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
	"github.com/palisade-blog/palisade/internal/sqlite"
	"github.com/palisade-blog/palisade/internal/storetest"
)

// logBuffer collects JSON log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the records logged with this message.
func (l *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLog returns a JSON logger at DEBUG into buf, counted by reg if it is
// not nil.
func newLog(buf *logBuffer, reg *metrics.Registry) *slog.Logger {
	var h slog.Handler = slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if reg != nil {
		h = reg.WrapHandler(h)
	}
	return slog.New(h)
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitFor polls until cond holds, failing after a minute: a wait for an
// event, not a measure of how long it takes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// start runs s until the test ends or the returned stop is called, which
// waits for Run to return.
func start(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

func backupNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if namePattern.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// Backups appear every interval, each a whole backup of the store; only
// the newest Keep stay, and nothing else in the directory is touched.
func TestBackupsAppearAndKeepIsHonoured(t *testing.T) {
	store := openSQLite(t)
	storetest.Populate(t, store)
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Files the scheduler must leave alone: a partial of some backup, an
	// operator's own copy, a name it did not write.
	others := []string{"palisade-20200101T000000Z.tar.partial-123", "palisade-20200101T000000Z.tar.copy", "notes.txt"}
	for _, name := range others {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs logBuffer
	reg := metrics.New()
	s, err := New(Options{Dir: dir, Interval: time.Second, Keep: 2, Store: store, Log: newLog(&logs, reg), Backup: backup.Options{Store: "sqlite", PalisadeVersion: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	waitFor(t, "four backups", func() bool { return len(logs.lines(t, metrics.BackupWritten)) >= 4 })
	stop()

	names := backupNames(t, dir)
	if len(names) != 2 {
		t.Fatalf("backups kept = %v, want the newest 2", names)
	}
	written := logs.lines(t, metrics.BackupWritten)
	last := written[len(written)-1]
	if filepath.Base(last["file"].(string)) != names[1] {
		t.Fatalf("the newest file %s is not the last one logged, %v", names[1], last["file"])
	}
	for _, key := range []string{"records", "bytes", "durationMicros"} {
		if v, ok := last[key].(float64); !ok || v <= 0 {
			t.Errorf("the INFO line's %s = %v: %v", key, last[key], last)
		}
	}
	for _, name := range others {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was touched: %v", name, err)
		}
	}
	f, err := os.Open(filepath.Join(dir, names[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	b, err := backup.Open(f, nil, t.TempDir())
	if err != nil {
		t.Fatalf("the newest backup does not open: %v", err)
	}
	defer func() { _ = b.Close() }()
	want, err := store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Manifest.Counts(); got != want || float64(b.Manifest.Records()) != last["records"].(float64) {
		t.Fatalf("the backup holds %+v, the store %+v", got, want)
	}
	var scrape bytes.Buffer
	if _, err := reg.WriteTo(&scrape); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(scrape.String(), "palisade_backup_last_success_timestamp_seconds 0\n") ||
		strings.Contains(scrape.String(), "palisade_backup_last_duration_seconds 0\n") ||
		!strings.Contains(scrape.String(), "palisade_backup_failures_total 0\n") {
		t.Fatalf("metrics after successful backups:\n%s", scrape.String())
	}
}

// The first backup waits an interval after the newest in the directory,
// and is taken at once when that is older than the interval.
func TestFirstBackupFollowsTheNewest(t *testing.T) {
	store := openSQLite(t)
	dir := t.TempDir()
	recent := Name(time.Now(), false)
	if err := os.WriteFile(filepath.Join(dir, recent), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	s, err := New(Options{Dir: dir, Interval: time.Hour, Keep: 5, Store: store, Log: newLog(&logs, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if wait := s.tick(context.Background()); wait <= 0 || wait > time.Hour {
		t.Fatalf("with a backup just taken, the next waits %s, want up to an hour", wait)
	}
	if got := backupNames(t, dir); len(got) != 1 {
		t.Fatalf("a backup was taken though one is recent: %v", got)
	}
	old := Name(time.Now().Add(-2*time.Hour), false)
	if err := os.Rename(filepath.Join(dir, recent), filepath.Join(dir, old)); err != nil {
		t.Fatal(err)
	}
	if wait := s.tick(context.Background()); wait <= 0 || wait > time.Hour {
		t.Fatalf("after a backup, the next waits %s, want up to an interval", wait)
	}
	if got := backupNames(t, dir); len(got) != 2 {
		t.Fatalf("no backup was taken though the newest was old: %v", got)
	}
}

// A name dated well in the future (a clock that was ahead) is ignored,
// with one WARN line: backups carry on as if it were not there, and it is
// neither counted against Keep nor removed. A name whose date does not
// exist is not a backup at all: never counted, never removed.
func TestNamesFromTheFutureOrNowhereAreIgnored(t *testing.T) {
	store := openSQLite(t)
	dir := t.TempDir()
	future := Name(time.Now().Add(100*24*time.Hour), false)
	impossible := "palisade-99991399T000000Z.tar"
	old := Name(time.Now().Add(-2*time.Hour), false)
	soon := Name(time.Now().Add(time.Minute), false) // another instance's clock, a little ahead
	for _, n := range []string{future, impossible, old} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs logBuffer
	s, err := New(Options{Dir: dir, Interval: time.Hour, Keep: 1, Store: store, Log: newLog(&logs, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if wait := s.tick(context.Background()); wait <= 0 || wait > time.Hour {
		t.Fatalf("after a backup, the next waits %s", wait)
	}
	got := backupNames(t, dir)
	if len(got) != 3 || !slices.Contains(got, future) || !slices.Contains(got, impossible) || slices.Contains(got, old) {
		t.Fatalf("with a future and an impossible name, the directory holds %v: want a new backup, the old one pruned, the others untouched", got)
	}
	s.tick(context.Background())
	if warns := logs.lines(t, "a backup's name is dated in the future: it is ignored (not counted, never removed) until that time; remove it if the clock was wrong"); len(warns) != 1 || !strings.HasSuffix(warns[0]["file"].(string), future) {
		t.Fatalf("WARN lines for the future name: %v", warns)
	}
	// Within the margin, a name counts: the next backup waits.
	if err := os.WriteFile(filepath.Join(dir, soon), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if wait, err := s.untilDue(); err != nil || wait <= 0 {
		t.Fatalf("a name a minute ahead: wait %s, %v", wait, err)
	}
}

// Giving the lease up is bounded in time: a store that no longer answers
// does not hold up shutdown.
func TestReleaseLeaseIsBounded(t *testing.T) {
	store := &slowRelease{Store: openSQLite(t)}
	s, err := New(Options{Dir: t.TempDir(), Interval: time.Hour, Keep: 1, Store: store, Log: newLog(&logBuffer{}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	s.tick(context.Background())
	if !store.bounded {
		t.Fatal("the lease was released with no deadline")
	}
}

// slowRelease is a real store whose ReleaseLease answers only when its
// context ends, as an unreachable database would.
type slowRelease struct {
	*sqlite.Store
	bounded bool
}

func (s *slowRelease) ReleaseLease(ctx context.Context, name, holder string) error {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > releaseTimeout {
		return context.DeadlineExceeded // unbounded: fail the test, not hang it
	}
	s.bounded = true
	<-ctx.Done()
	return ctx.Err()
}

// A backup that fails is one ERROR line saying which step failed, with no
// driver message, and is counted; the next attempt works again.
func TestFailureIsLoggedAndCounted(t *testing.T) {
	store := openSQLite(t)
	dir := filepath.Join(t.TempDir(), "backups")
	var logs logBuffer
	reg := metrics.New()
	s, err := New(Options{Dir: dir, Interval: time.Second, Keep: 3, Store: store, Log: newLog(&logs, reg)})
	if err != nil {
		t.Fatal(err)
	}
	// Others may now write the directory: refused at every backup.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	s.tick(context.Background())
	// The store gone: the lease cannot be taken.
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	s.tick(context.Background())

	failed := logs.lines(t, metrics.BackupFailed)
	if len(failed) != 2 {
		t.Fatalf("%d ERROR lines, want 2:\n%s", len(failed), logs.String())
	}
	if failed[0]["level"] != "ERROR" || failed[0]["step"] != "read the backup directory" || !strings.Contains(failed[0]["error"].(string), "may be written by other users") {
		t.Errorf("the directory's failure: %v", failed[0])
	}
	if failed[1]["step"] != "take the backup lease" || strings.Contains(logs.String(), "sql:") || strings.Contains(logs.String(), "database is closed") {
		t.Errorf("the store's failure: %v\n%s", failed[1], logs.String())
	}
	if got := backupNames(t, dir); len(got) != 0 {
		t.Fatalf("failed backups left %v", got)
	}
	var scrape bytes.Buffer
	if _, err := reg.WriteTo(&scrape); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(scrape.String(), "palisade_backup_failures_total 2\n") ||
		!strings.Contains(scrape.String(), "palisade_backup_last_success_timestamp_seconds 0\n") {
		t.Fatalf("metrics after two failures:\n%s", scrape.String())
	}
}

// gatedStore is a real store whose Export stops after its first record
// until the backup is cancelled, so that a test can stop the scheduler
// mid-backup without racing it.
type gatedStore struct {
	*sqlite.Store
	started chan struct{}
}

func (g *gatedStore) Export(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
	first := true
	return g.Store.Export(ctx, func(r blog.Record) error {
		if err := emit(r); err != nil {
			return err
		}
		if first {
			first = false
			close(g.started)
			<-ctx.Done()
		}
		return nil
	})
}

// Stopping mid-backup cancels it: no file under a backup's name, no
// partial file, no ERROR, and the lease given back.
func TestShutdownMidBackupLeavesNoFile(t *testing.T) {
	store := &gatedStore{Store: openSQLite(t), started: make(chan struct{})}
	storetest.Populate(t, store.Store)
	dir := t.TempDir()
	var logs logBuffer
	reg := metrics.New()
	s, err := New(Options{Dir: dir, Interval: time.Hour, Keep: 3, Store: store, Log: newLog(&logs, reg)})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	<-store.started
	stop()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("a cancelled backup left %v", entries)
	}
	if n := len(logs.lines(t, metrics.BackupFailed)); n != 0 || !strings.Contains(logs.String(), "abandoned") {
		t.Fatalf("a cancelled backup: %d ERROR lines, want none and a line saying it was abandoned:\n%s", n, logs.String())
	}
	if ok, err := store.TryLease(context.Background(), leaseName, "next", time.Minute); err != nil || !ok {
		t.Fatalf("the lease was not given back: %v, %v", ok, err)
	}
}

// While another instance holds the lease, no backup is written; once it
// is given back, one is.
func TestLeaseHeldElsewhereWaits(t *testing.T) {
	store := openSQLite(t)
	ctx := context.Background()
	if ok, err := store.TryLease(ctx, leaseName, "other instance", time.Hour); err != nil || !ok {
		t.Fatal(ok, err)
	}
	dir := t.TempDir()
	var logs logBuffer
	s, err := New(Options{Dir: dir, Interval: time.Second, Keep: 3, Store: store, Log: newLog(&logs, nil)})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	waitFor(t, "the lease refused twice", func() bool { return strings.Count(logs.String(), "holds the backup lease") >= 2 })
	if got := backupNames(t, dir); len(got) != 0 {
		t.Fatalf("a backup was written under another's lease: %v", got)
	}
	if err := store.ReleaseLease(ctx, leaseName, "other instance"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a backup", func() bool { return len(logs.lines(t, metrics.BackupWritten)) >= 1 })
}

// The directory is made owner-only when missing; one that other users may
// write, or a file, is refused.
func TestPrepareDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "backups")
	if err := PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created with %v, %v; want 0700", fi.Mode(), err)
	}
	for _, mode := range []os.FileMode{0o770, 0o702, 0o1777} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := PrepareDir(dir); err == nil || !strings.Contains(err.Error(), "other users") {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(dir); err != nil {
		t.Errorf("mode 0750: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(file); err == nil {
		t.Error("a file was taken for a directory")
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a symbolic link to a good directory: %v", err)
	}
	if os.Geteuid() == 0 { // only root can give a directory away
		theirs := filepath.Join(t.TempDir(), "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 12345, 12345); err != nil {
			t.Fatal(err)
		}
		if err := PrepareDir(theirs); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Errorf("a directory of another user: %v", err)
		}
	}
}

// Two instances on one PostgreSQL database sharing one directory take
// each backup once: every backup is logged by one instance only, under
// its own name, and the backups are at least an interval apart.
func TestTwoInstancesOnPostgresTakeEachBackupOnce(t *testing.T) {
	url := pgtest.Schema(t)
	ctx := context.Background()
	dir := t.TempDir()
	const interval = 2 * time.Second
	var logs [2]logBuffer
	var schedulers []*Scheduler
	for i := range logs {
		store, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if i == 0 {
			storetest.Populate(t, store)
		}
		s, err := New(Options{Dir: dir, Interval: interval, Keep: 1000, Store: store, Log: newLog(&logs[i], nil), Backup: backup.Options{Store: "postgres"}})
		if err != nil {
			t.Fatal(err)
		}
		schedulers = append(schedulers, s)
	}
	// Started together on an empty directory, both find a backup due at
	// once, and each time after that at the same moment.
	var stops []func()
	for _, s := range schedulers {
		stops = append(stops, start(t, s))
	}
	total := func() int {
		return len(logs[0].lines(t, metrics.BackupWritten)) + len(logs[1].lines(t, metrics.BackupWritten))
	}
	waitFor(t, "four backups", func() bool { return total() >= 4 })
	for _, stop := range stops {
		stop()
	}
	var files []string
	for i := range logs {
		for _, rec := range logs[i].lines(t, metrics.BackupWritten) {
			files = append(files, filepath.Base(rec["file"].(string)))
		}
	}
	slices.Sort(files)
	if len(slices.Compact(slices.Clone(files))) != len(files) {
		t.Fatalf("a backup was written twice: %v", files)
	}
	if inDir := backupNames(t, dir); !slices.Equal(inDir, files) {
		t.Fatalf("the directory holds %v, the logs name %v", inDir, files)
	}
	for i := 1; i < len(files); i++ {
		a, _ := nameTime(files[i-1])
		b, _ := nameTime(files[i])
		if gap := b.Sub(a); gap < interval {
			t.Fatalf("backups %s and %s are %s apart, less than the interval", files[i-1], files[i], gap)
		}
	}
	if len(logs[0].lines(t, metrics.BackupFailed))+len(logs[1].lines(t, metrics.BackupFailed)) != 0 {
		t.Fatalf("failures:\n%s\n%s", logs[0].String(), logs[1].String())
	}
}
