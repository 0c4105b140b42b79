// Package postgres implements Palisade's store on PostgreSQL with pgx v5
// and a connection pool: the store for running several instances behind a
// load balancer.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Store is the PostgreSQL implementation of blog.Store.
type Store struct {
	pool *pgxpool.Pool
	// fullAt is when a write last failed for lack of disk space (Unix
	// nanoseconds), 0 once a write has succeeded since.
	fullAt atomic.Int64
}

var _ blog.Store = (*Store)(nil)

// Open connects to the database at url (postgres://…; a search_path query
// parameter selects a schema) and applies the embedded migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	s, err := open(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, s.pool); err != nil {
		_ = s.Close() // the migration error is the one to report
		return nil, err
	}
	return s, nil
}

// Migrate applies the embedded migrations and returns how many it applied.
func Migrate(ctx context.Context, url string) (int, error) {
	s, err := open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = s.Close() }() // the migrations are committed: a failed close loses nothing
	return migrate(ctx, s.pool)
}

// DefaultConnectTimeout bounds each attempt to connect (TCP, TLS and the
// start-up exchange) when the URL sets no connect_timeout. Without it, a
// host that accepts the connection but never answers (a wrong port, a
// proxy with nothing behind it) would hang start-up forever, silently.
const DefaultConnectTimeout = 10 * time.Second

// connectTimeout is DefaultConnectTimeout; tests shorten it.
var connectTimeout = DefaultConnectTimeout

// parseConfig parses url, applying the default connect time-out unless the
// URL (or PGCONNECT_TIMEOUT) chose one: connect_timeout=0 still means
// "wait forever" for an operator who asks for it.
func parseConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, errors.New("PALISADE_DATABASE_URL: not a valid postgres:// URL")
	}
	if !strings.Contains(url, "connect_timeout") && os.Getenv("PGCONNECT_TIMEOUT") == "" {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	return cfg, nil
}

// Target describes where url connects, for a log line before start-up
// waits on it: host:port (never the user or password) and the connect
// time-out (0: none). ok is false if url does not parse.
func Target(url string) (addr string, timeout time.Duration, ok bool) {
	cfg, err := parseConfig(url)
	if err != nil {
		return "", 0, false
	}
	cc := cfg.ConnConfig
	return net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), cc.ConnectTimeout, true
}

func open(ctx context.Context, url string) (*Store, error) {
	cfg, err := parseConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		cc := cfg.ConnConfig
		addr := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
		if (pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)) && ctx.Err() == nil {
			return nil, fmt.Errorf("connect to postgres at %s: no answer within %s (is that host and port a PostgreSQL server? connect_timeout in the URL sets the wait): %w",
				addr, cc.ConnectTimeout, err)
		}
		return nil, fmt.Errorf("connect to postgres at %s: %w", addr, err)
	}
	return &Store{pool: pool}, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", unavailable(err))
	}
	if at := s.fullAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < fullHold {
		return fmt.Errorf("ping postgres: %w: a write failed for lack of disk space %s ago",
			blog.ErrNoSpace, time.Since(time.Unix(0, at)).Round(time.Second))
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// withTx runs fn in a transaction, committing if it returns nil.
func (s *Store) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", unavailable(err))
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit it is a no-op (ErrTxDone); after a failure, that error is the one returned
	if err := fn(tx); err != nil {
		return s.wrote(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", s.wrote(err))
	}
	return s.wrote(nil)
}

// fullHold is how long after a disk-full failure Ping keeps reporting it
// (unless a write succeeds first). There is no way to ask the server for
// its free space, so time stands in for a probe: readiness fails at once,
// and traffic comes back to try again after a while.
const fullHold = 30 * time.Second

// wrote is unavailable for writes: it also records a disk-full failure,
// which Ping then reports for fullHold, and clears it on success.
func (s *Store) wrote(err error) error {
	err = unavailable(err)
	switch {
	case err == nil:
		s.fullAt.Store(0)
	case blog.ErrorCode(err) == blog.ENOSPACE:
		s.fullAt.Store(time.Now().UnixNano())
	}
	return err
}

// unavailable marks err as EUNAVAILABLE (blog.ErrStoreUnavailable: a 503
// that clients may retry, instead of a 500; the pool reconnects by itself
// when the database is back) when it says the connection, not
// the query, failed: the server shut down or restarted, the network broke,
// or the pool could not connect. Other errors are returned as they are.
func unavailable(err error) error {
	if err == nil || blog.ErrorCode(err) != blog.EINTERNAL {
		return err
	}
	var (
		pgErr   *pgconn.PgError
		connErr *pgconn.ConnectError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code[:2] == "08", pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03":
			// Class 08: connection exceptions; 57P01-57P03: the server is
			// shutting down or starting up.
			return fmt.Errorf("%w: %w", blog.ErrStoreUnavailable, err)
		case pgErr.Code == "53100":
			// disk_full: the server could not extend a file. Nothing was
			// saved; the operator must free space.
			return fmt.Errorf("%w: %w", blog.ErrNoSpace, err)
		case pgErr.Code == "22021":
			// PostgreSQL text cannot hold NUL. Cleaned input never has
			// one; anything else is the caller's mistake, not ours.
			return fmt.Errorf("%w: %w", blog.Errorf(blog.EINVALID, "Text contains a NUL character"), err)
		}
		return err
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The connection broke under the query (EOF mid-read included).
		return fmt.Errorf("%w: %w", blog.ErrStoreUnavailable, err)
	}
	return err
}

// isUniqueViolation reports a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
