// Package sqlite implements Palisade's store on an embedded SQLite database
// (modernc.org/sqlite: pure Go, so the binary needs no C library).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/palisade-blog/palisade/internal/blog"
)

// Store is the SQLite implementation of blog.Store. SQLite allows one
// writer at a time, so writes go through a pool of one connection (no
// SQLITE_BUSY between our own writers) and reads through a separate pool
// that WAL mode lets run beside the writer.
type Store struct {
	write *sql.DB
	read  *sql.DB

	// stmts caches prepared read statements by query text. The driver
	// has no statement cache of its own, and parsing the SQL again on
	// every request cost about a tenth of the server's CPU under load.
	stmts      sync.Map // string → *sql.Stmt, on the read pool
	writeStmts sync.Map // the same on the writer (see writeStmt)

	path string
	// full is set while the last write failed for lack of disk space
	// (see wrote); Ping reports it, so readiness does too.
	full atomic.Bool
}

var _ blog.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies the
// embedded migrations.
//
// Several instances may start at once on the same new file: one sets it
// up and migrates it while the others wait for its locks (and retry, for
// up to a minute, where SQLite refuses to wait), so none fails.
func Open(ctx context.Context, path string) (*Store, error) {
	var s *Store
	err := retryBusy(ctx, func() error {
		var err error
		s, err = open(path)
		if err != nil {
			return err
		}
		if _, err := migrate(ctx, s.write); err != nil {
			_ = s.Close() // the migration's error is the one to report
			return fmt.Errorf("migrate %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Migrate applies the embedded migrations to the database at path and
// returns how many were applied.
func Migrate(ctx context.Context, path string) (int, error) {
	var n int
	err := retryBusy(ctx, func() error {
		s, err := open(path)
		if err != nil {
			return err
		}
		defer func() { _ = s.Close() }() // the migrations are committed: a failed close loses nothing
		// Each migration commits on its own: count those an attempt
		// cut short by a lock applied too.
		applied, err := migrate(ctx, s.write)
		n += applied
		return err
	})
	return n, err
}

func open(path string) (*Store, error) {
	// Create the file readable by its owner only before SQLite does (it
	// would use the umask, typically 0644); SQLite gives the -wal and -shm
	// files the same mode as the database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	info, err := f.Stat()
	_ = f.Close() // opened only to create it and read its size
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if info.Size() == 0 {
		if err := initFile(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		_ = write.Close() // unused yet; the open error is the one to report
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)

	s := &Store{write: write, read: read, path: path}
	// Touch the writer first: it creates the file and switches it to WAL,
	// which the read-only connections cannot do.
	if err := s.write.Ping(); err != nil {
		_ = s.Close() // the ping error is the one to report
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// pageSize is the page size of new databases. A post with its HTML is 4–5
// KB: with SQLite's default 4 KiB pages it spills onto overflow pages, which
// SQLite reads around its page cache with one system call each, on every
// read of the feed. With 16 KiB pages a typical post is one page.
const pageSize = 16384

// initFile sets up a new, empty database file: its page size, which can
// only be chosen before the first write, then WAL mode (which writes the
// first page, so the connection string's pragmas, applied in alphabetical
// order by the driver, would set it too late).
func initFile(path string) error {
	// Another instance starting at the same moment may be setting up the
	// same file: wait for its lock like every other connection does.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // the pragmas are written by the time it closes
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return fmt.Errorf("set page size: %w", err)
	}
	if _, err := db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	return nil
}

// dsn builds the connection string. Every connection gets WAL (readers
// don't block the writer), foreign keys (SQLite leaves them off by
// default), a busy timeout (wait for a lock instead of failing at once) and
// synchronous=NORMAL (safe with WAL: a power cut may lose the last commit,
// never corrupt the file). Writers start transactions with BEGIN IMMEDIATE
// so a read-then-write transaction cannot fail half-way on a lock upgrade.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Ping checks both pools and, after a write failed for lack of disk space,
// that there is room again.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if s.full.Load() {
		// The last write failed for lack of space: not ready until
		// there is room again (or a write succeeds meanwhile).
		if err := s.probeSpace(ctx); err != nil {
			return fmt.Errorf("ping sqlite: %w", err)
		}
		s.full.Store(false)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	// A prepared statement holds nothing to save: closing the pools below
	// is what can fail in a way worth reporting.
	s.stmts.Range(func(_, v any) bool { _ = v.(*sql.Stmt).Close(); return true })
	s.writeStmts.Range(func(_, v any) bool { _ = v.(*sql.Stmt).Close(); return true })
	return errors.Join(s.read.Close(), s.write.Close())
}

// readStmt returns the prepared statement for query on the read pool,
// preparing it on first use. (database/sql prepares it again on each
// pooled connection as needed.)
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return prepared(ctx, s.read, &s.stmts, query)
}

// prepared returns query prepared on db, from cache or prepared and cached.
func prepared(ctx context.Context, db *sql.DB, cache *sync.Map, query string) (*sql.Stmt, error) {
	if st, ok := cache.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := cache.LoadOrStore(query, st); loaded {
		_ = st.Close() // lost the race to cache it: an unused duplicate
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// writeStmt returns query prepared on the writer. Call it before the
// transaction that uses the statement (through tx.StmtContext, which then
// reuses it: the writer is one connection): while a transaction holds that
// connection, preparing on the pool would wait for it forever.
func (s *Store) writeStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return prepared(ctx, s.write, &s.writeStmts, query)
}

// reads is the read pool seen through the statement cache; it satisfies
// querier.
type reads struct{ s *Store }

// QueryRowContext runs a one-row read with a cached statement. If the
// statement can't be prepared the query runs unprepared, so the error
// surfaces from Scan as usual.
func (r reads) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := r.s.readStmt(ctx, query)
	if err != nil {
		return r.s.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a read through the statement cache.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// withTx runs fn in a write transaction, committing if it returns nil.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", s.wrote(err))
	}
	defer func() { _ = tx.Rollback() }() // after Commit it is a no-op (ErrTxDone); after a failure, that error is the one returned
	if err := fn(tx); err != nil {
		return s.wrote(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.wrote(err))
	}
	return s.wrote(nil)
}
