package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key held while migrating, so several
// instances starting together apply each migration exactly once. (Any
// constant works; this one spells "palisade" in ASCII.)
const migrationLock = 0x70616c6973616465

// migrate applies every embedded migration the database lacks, each in
// its own transaction, under a session advisory lock, and returns how many
// it applied.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock)); err != nil {
			// Back in the pool still holding the lock, the connection would
			// block every later migration: close it instead, which ends its
			// session and with it the lock (Release then drops it).
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range ms {
		done, err := applyMigration(ctx, conn.Conn(), m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	// Then the username skeletons that SQL can't compute. Old look-alike
	// pairs are left as they are (see blog.FillSkeletons): they must not
	// stop the server from starting.
	if _, err := blog.FillSkeletons(ctx, skeletonFiller{conn.Conn()}); err != nil {
		return applied, err
	}
	return applied, nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, m migration.Migration) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit it is a no-op (ErrTxDone); after a failure, that error is the one returned
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&exists); err != nil {
		return false, fmt.Errorf("migration %s: check: %w", m.Name, err)
	}
	if exists {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return true, nil
}
