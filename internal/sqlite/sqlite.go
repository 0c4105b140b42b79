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
}

var _ blog.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies the
// embedded migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(path)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, s.write); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// Migrate applies the embedded migrations to the database at path and
// returns how many were applied.
func Migrate(ctx context.Context, path string) (int, error) {
	s, err := open(path)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return migrate(ctx, s.write)
}

func open(path string) (*Store, error) {
	// Create the file readable by its owner only before SQLite does (it
	// would use the umask, typically 0644); SQLite gives the -wal and -shm
	// files the same mode as the database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)

	s := &Store{write: write, read: read}
	// Touch the writer first: it creates the file and switches it to WAL,
	// which the read-only connections cannot do.
	if err := s.write.Ping(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
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

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// withTx runs fn in a write transaction, committing if it returns nil.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
