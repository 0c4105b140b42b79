// Package schedule takes a backup every interval into one directory and
// keeps the newest few, as serve does with PALISADE_BACKUP_DIR. Several
// instances may share the directory and the store: a lease in the store
// lets one write at a time, and the directory itself says when the last
// backup was taken, so each backup is taken once whichever instance
// takes it.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/palisade-blog/palisade/internal/backup"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/metrics"
)

// releaseTimeout bounds giving the lease up.
const releaseTimeout = 5 * time.Second

// leaseName is the lease every instance asks for before it writes.
const leaseName = "backup"

// timeLayout is the UTC time in a backup's name: it sorts as it reads.
const timeLayout = "20060102T150405Z"

// namePattern matches the names of the backups this package writes, and
// nothing else: not a partial file of a backup being written, nor any
// other file an operator keeps beside them.
var namePattern = regexp.MustCompile(`^palisade-(\d{8}T\d{6}Z)\.tar(\.age)?$`)

// Store is what a scheduled backup needs of the store.
type Store interface {
	Export(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error)
	blog.LeaseStore
}

// Options configure a Scheduler.
type Options struct {
	Dir      string        // created 0700 if missing; refused if others may write it
	Interval time.Duration // between backups
	Keep     int           // the newest Keep backups are kept
	Store    Store
	Log      *slog.Logger
	// Backup says what each backup records about itself and whom it is
	// encrypted for (Recipients: the name then ends .tar.age).
	Backup backup.Options
	// LeaseTTL is how long a lease outlives an instance that dies while
	// it writes; zero is a minute. The writer renews it meanwhile.
	LeaseTTL time.Duration
}

// Scheduler takes the backups. Run it once.
type Scheduler struct {
	o      Options
	holder string
	warned map[string]bool // future-dated names already logged (Run's goroutine only)
}

// New checks the options and the directory (creating it if missing) and
// returns the scheduler.
func New(o Options) (*Scheduler, error) {
	if o.Interval <= 0 || o.Keep < 1 || o.Store == nil || o.Log == nil {
		return nil, errors.New("schedule: an interval, a number to keep, a store and a logger are needed")
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = time.Minute
	}
	if err := PrepareDir(o.Dir); err != nil {
		return nil, err
	}
	return &Scheduler{o: o, holder: blog.NewID(), warned: map[string]bool{}}, nil
}

// PrepareDir creates dir, readable by its owner only, if it is missing,
// and refuses one that other users may write, or own, or a symbolic link
// (whoever may change it chooses where the backups go): they could delete
// or replace the backups, or plant files that stop or outnumber them.
func PrepareDir(dir string) error {
	if dir == "" {
		return dirError("no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the directory: %w", err)
	}
	fi, err := os.Lstat(filepath.Clean(dir))
	if err != nil {
		return fmt.Errorf("check the directory: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return dirError(dir + " is a symbolic link: give the directory's own path")
	}
	if !fi.IsDir() {
		return dirError(dir + " is not a directory")
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return dirError(fmt.Sprintf("%s may be written by other users (mode %04o): chmod go-w it", dir, fi.Mode().Perm()))
	}
	if owner, ok := ownerOf(fi); ok && owner != os.Geteuid() {
		return dirError(fmt.Sprintf("%s belongs to another user (uid %d): its owner may change it; chown it to the user Palisade runs as", dir, owner))
	}
	return nil
}

// dirError is a problem with the backup directory, in words of our own.
type dirError string

func (e dirError) Error() string { return string(e) }

// Run takes backups until ctx ends. The first is due at once if the
// directory holds no backup younger than the interval, else an interval
// after the newest; each later one an interval after the one before. A
// backup in progress when ctx ends is abandoned and leaves no file.
func (s *Scheduler) Run(ctx context.Context) {
	for ctx.Err() == nil {
		wait := s.tick(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// tick takes a backup if one is due, and returns how long to wait before
// looking again.
func (s *Scheduler) tick(ctx context.Context) time.Duration {
	if wait, err := s.untilDue(); err != nil {
		s.failed(ctx, "read the backup directory", err)
		return s.retryPause()
	} else if wait > 0 {
		return wait
	}
	held, err := s.o.Store.TryLease(ctx, leaseName, s.holder, s.o.LeaseTTL)
	if err != nil {
		if ctx.Err() != nil {
			return 0 // shutting down: nothing failed
		}
		s.failed(ctx, "take the backup lease", err)
		return s.retryPause()
	}
	if !held {
		// Another instance is writing one; look again once it is likely
		// done (its file then says when the next is due).
		s.o.Log.Debug("another instance holds the backup lease; this one waits")
		return min(s.o.Interval, s.o.LeaseTTL/2)
	}
	defer func() {
		// Given up even when ctx has ended, but not waited for long: an
		// unreachable store must not hold up shutdown, and the lease runs
		// out by itself.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		_ = s.o.Store.ReleaseLease(rctx, leaseName, s.holder)
	}()
	// Under the lease, again: another instance may have just written one.
	if wait, err := s.untilDue(); err != nil {
		s.failed(ctx, "read the backup directory", err)
		return s.retryPause()
	} else if wait > 0 {
		return wait
	}
	if err := s.write(ctx); err != nil {
		if ctx.Err() != nil {
			s.o.Log.Info("scheduled backup abandoned: the server is stopping")
			return 0
		}
		return s.retryPause()
	}
	// From the new backup's name, as every instance reckons it, so that
	// the next is due an interval after this one began, wherever it ran.
	if wait, err := s.untilDue(); err == nil {
		return max(wait, time.Second)
	}
	return s.o.Interval
}

// retryPause is how long a failed backup waits to be tried again: soon
// enough to ride out a brief outage, seldom enough not to flood the log.
func (s *Scheduler) retryPause() time.Duration { return min(s.o.Interval, 5*time.Minute) }

// futureMargin is how far in the future a backup's name may be dated and
// still count: clocks of several instances differ a little. A name dated
// further ahead (a clock that was wrong, a file copied in) is ignored:
// counted as the newest, it would put the next backup off until that
// date, and so stop backups silently.
const futureMargin = 5 * time.Minute

// untilDue returns how long until the next backup is due: an interval
// after the newest in the directory, at once if there is none. A name
// dated in the future, within futureMargin, counts as now: it puts the
// next backup off by an interval and the margin at most.
func (s *Scheduler) untilDue() (time.Duration, error) {
	names, err := s.backups()
	if err != nil {
		return 0, err
	}
	if len(names) == 0 {
		return 0, nil
	}
	now := time.Now()
	newest, _ := nameTime(names[len(names)-1])
	if newest.After(now) {
		newest = now
	}
	return newest.Add(s.o.Interval).Sub(now), nil
}

// backups lists the directory's backups, oldest first: the names of our
// pattern whose time is a real one and not beyond futureMargin. Others
// are neither counted nor ever removed. A name dated too far ahead is
// logged once, at WARN, so that an operator can remove it.
func (s *Scheduler) backups() ([]string, error) {
	if err := PrepareDir(s.o.Dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.o.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	limit := time.Now().Add(futureMargin)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		t, ok := nameTime(e.Name())
		switch {
		case !ok:
			continue
		case t.After(limit):
			if !s.warned[e.Name()] {
				s.warned[e.Name()] = true
				s.o.Log.Warn("a backup's name is dated in the future: it is ignored (not counted, never removed) until that time; remove it if the clock was wrong",
					slog.String("file", filepath.Join(s.o.Dir, e.Name())))
			}
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names) // the time in the name sorts as text
	return names, nil
}

// nameTime returns the time in a backup's name, and whether the name is
// one: of our pattern, with a time that exists (not a 13th month) and
// written as Name writes it.
func nameTime(name string) (time.Time, bool) {
	m := namePattern.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(timeLayout, m[1])
	if err != nil || t.Format(timeLayout) != m[1] {
		return time.Time{}, false
	}
	return t, true
}

// Name is the file name of a backup started at t.
func Name(t time.Time, encrypted bool) string {
	n := "palisade-" + t.UTC().Format(timeLayout) + ".tar"
	if encrypted {
		n += ".age"
	}
	return n
}

// write takes one backup under the lease, renewing it meanwhile, then
// removes the oldest beyond Keep. It logs the outcome.
func (s *Scheduler) write(ctx context.Context) error {
	start := time.Now()
	name := Name(start, len(s.o.Backup.Recipients) > 0)
	wctx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renew(wctx, cancel)
	}()
	m, err := backup.WriteFile(wctx, filepath.Join(s.o.Dir, name), s.o.Store.Export, s.o.Backup)
	lost := context.Cause(wctx) // set by renew, or by ctx ending
	cancel(nil)
	<-renewed
	if err != nil {
		if ctx.Err() != nil {
			return err // stopping, not failing: tick says so
		}
		if lost != nil {
			err = lost
		}
		s.failed(ctx, "write the backup", err)
		return err
	}
	info, err := os.Stat(filepath.Join(s.o.Dir, name))
	size := int64(0)
	if err == nil {
		size = info.Size()
	}
	took := time.Since(start)
	s.o.Log.LogAttrs(ctx, slog.LevelInfo, metrics.BackupWritten,
		slog.String("file", filepath.Join(s.o.Dir, name)),
		slog.Int("records", m.Records()),
		slog.Int64("bytes", size),
		slog.Int64(logging.DurationKey, took.Microseconds()))
	s.prune(ctx)
	return nil
}

// errLeaseLost ends a backup whose lease another instance has taken over
// (this one stalled past the lease's time): both writing would waste the
// work of one and could remove each other's files.
var errLeaseLost = errors.New("the backup lease was lost")

// renew extends the lease every third of its time until ctx ends, and
// cancels the backup if it is lost.
func (s *Scheduler) renew(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(s.o.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			held, err := s.o.Store.TryLease(ctx, leaseName, s.holder, s.o.LeaseTTL)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				cancel(fmt.Errorf("renew the backup lease: %w", err))
				return
			}
			if !held {
				cancel(errLeaseLost)
				return
			}
		}
	}
}

// prune removes the oldest backups beyond Keep. Only names of our own
// pattern are counted or removed: never a partial file, which another
// instance may be writing, nor anything else in the directory.
func (s *Scheduler) prune(ctx context.Context) {
	names, err := s.backups()
	if err != nil {
		s.o.Log.LogAttrs(ctx, slog.LevelWarn, "removing old backups failed", slog.String("error", describe(err)))
		return
	}
	for len(names) > s.o.Keep {
		if err := os.Remove(filepath.Join(s.o.Dir, names[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.o.Log.LogAttrs(ctx, slog.LevelWarn, "removing an old backup failed", slog.String("file", names[0]), slog.String("error", describe(err)))
		}
		names = names[1:]
	}
}

// failed logs the ERROR line of a failed backup: what failed and the
// error's class, never a driver's message (it may hold a host, a query or
// worse).
func (s *Scheduler) failed(ctx context.Context, step string, err error) {
	s.o.Log.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, metrics.BackupFailed,
		slog.String("step", step), slog.String("error", describe(err)), slog.String("dir", s.o.Dir))
}

// describe says what kind of failure err is in words of our own: a
// store's error by its code (the message of a *blog.Error is safe), a file
// system's by its operation and cause.
func describe(err error) string {
	var be *blog.Error
	var pe *os.PathError
	var le *os.LinkError
	var de dirError
	switch {
	case errors.Is(err, errLeaseLost):
		return errLeaseLost.Error()
	case errors.As(err, &de):
		return string(de)
	case errors.As(err, &be):
		return be.Message
	case errors.As(err, &pe):
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	case errors.As(err, &le):
		return le.Op + ": " + le.Err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	default:
		return "the store could not be read (the cause is not logged: it may be a driver's message)"
	}
}
