package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies every embedded migration that the database lacks, each in
// its own transaction, and returns how many it applied. It then fills in
// the username skeletons that SQL can't compute. The writer pool has
// a single connection and BEGIN IMMEDIATE takes the write lock, so two
// processes starting at once apply each migration once.
func migrate(ctx context.Context, db *sql.DB) (int, error) {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range ms {
		done, err := applyMigration(ctx, db, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	// Old look-alike pairs are left as they are (see blog.FillSkeletons): they
	// must not stop the server from starting.
	if _, err := blog.FillSkeletons(ctx, skeletonFiller{db}); err != nil {
		return applied, err
	}
	return applied, nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration.Migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit it is a no-op (ErrTxDone); after a failure, that error is the one returned
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migration %s: check: %w", m.Name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, unixepoch())`, m.Version); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return true, nil
}
