package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestRetryBusy proves the retry that lets instances start together on
// one new database: a real SQLITE_BUSY (a write while another connection
// holds the lock, with no busy timeout to hide it) is retried until the
// lock is released, and any other error is returned at once.
func TestRetryBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Close() }()
	holder.SetMaxOpenConns(1)
	if _, err := holder.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	lock, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}

	writer, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = writer.Close() }()
	calls, busy := 0, 0
	err = retryBusy(ctx, func() error {
		calls++
		_, err := writer.ExecContext(ctx, `INSERT INTO t VALUES (2)`)
		if isBusy(err) {
			busy++
			if busy == 2 {
				// The other instance finishes its migration.
				if err := lock.Commit(); err != nil {
					t.Error(err)
				}
			}
		}
		return err
	})
	if err != nil || busy != 2 || calls != 3 {
		t.Fatalf("retryBusy = %v after %d calls (%d busy); want success on the third, after two busy answers", err, calls, busy)
	}

	other := errors.New("not a lock")
	calls = 0
	if err := retryBusy(ctx, func() error { calls++; return other }); !errors.Is(err, other) || calls != 1 {
		t.Fatalf("retryBusy = %v after %d calls; want the error at once", err, calls)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	lock2, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock2.Rollback() }()
	if _, err := lock2.ExecContext(ctx, `INSERT INTO t VALUES (3)`); err != nil {
		t.Fatal(err)
	}
	err = retryBusy(cancelled, func() error {
		_, err := writer.ExecContext(ctx, `INSERT INTO t VALUES (4)`)
		return err
	})
	if !errors.Is(err, context.Canceled) || !isBusy(err) {
		t.Fatalf("retryBusy with a cancelled context = %v; want the busy error and context.Canceled", err)
	}
}
