package sqlite

import (
	"context"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// primaryCode is the SQLite result code of err (extended codes reduced
// to their primary one), or 0 if err is not from SQLite.
func primaryCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// isBusy reports a lock another connection holds. busy_timeout makes most
// of them wait, but SQLite answers SQLITE_BUSY at once where waiting could
// deadlock: two connections that both read the file and then both want
// to write it, as two instances setting up the same new database do.
func isBusy(err error) bool {
	c := primaryCode(err)
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// startupWait bounds how long Open keeps retrying a database that another
// instance holds locked: long enough for any migration, short enough that
// a database locked for good (a stuck process) still ends start-up with
// an error.
const startupWait = time.Minute

// retryBusy runs fn until it returns something other than a busy error,
// backing off a little more each time, for at most startupWait.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(startupWait)
	pause := 10 * time.Millisecond
	for {
		err := fn()
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}
