package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
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
//
// Migrations run with foreign-key enforcement off, as SQLite's procedure
// for rebuilding a table asks (dropping a table that posts reference
// would otherwise delete the posts, ON DELETE CASCADE); each checks every
// reference (foreign_key_check) before it commits instead.
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
	applied, err := applyAll(ctx, db, ms)
	if err != nil {
		return applied, err
	}
	// Old look-alike pairs are left as they are (see blog.FillSkeletons): they
	// must not stop the server from starting.
	if _, err := blog.FillSkeletons(ctx, skeletonFiller{db}); err != nil {
		return applied, err
	}
	return applied, nil
}

// applyAll applies the migrations the database lacks on one connection of
// the writer, with foreign-key enforcement off, and hands the connection
// back to the pool with enforcement on.
func applyAll(ctx context.Context, db *sql.DB, ms []migration.Migration) (int, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = conn.Close() }() // back to the pool; nothing is pending on it
	// The pragma is a no-op inside a transaction, so it is set around them.
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	applied := 0
	for _, m := range ms {
		done, err := applyMigration(ctx, conn, m)
		if err != nil {
			return applied, errors.Join(err, enforceForeignKeys(conn))
		}
		if done {
			applied++
		}
	}
	return applied, enforceForeignKeys(conn)
}

// enforceForeignKeys turns enforcement back on for the writer's
// connection. If that fails the connection is discarded, so that no write
// ever runs on one without it.
func enforceForeignKeys(conn *sql.Conn) error {
	if _, err := conn.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // makes the pool close it; the error below says why
		return fmt.Errorf("migrate: enable foreign keys: %w", err)
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.Conn, m migration.Migration) (bool, error) {
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
	if err := foreignKeyCheck(ctx, tx); err != nil {
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

// foreignKeyCheck fails if any row references a row that does not exist,
// which a migration run without enforcement could otherwise leave behind.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only; Err below reports a failed read
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return fmt.Errorf("foreign key check: %w", err)
		}
		return fmt.Errorf("foreign key check: a row of %s references a missing row of %s", table, parent)
	}
	return rows.Err()
}
