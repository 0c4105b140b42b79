package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// database is one kind of store: how to open it for service, and how to
// bring its schema up to date alone (the migrate command).
type database struct {
	open    func(ctx context.Context, cfg *config.Config, log *slog.Logger) (blog.Store, error)
	migrate func(ctx context.Context, cfg *config.Config, log *slog.Logger) (string, error)
}

// databaseFor is the one place that decides which store the configuration
// names: PostgreSQL for a postgres:// URL, MongoDB for mongodb://, else
// SQLite in the data directory.
func databaseFor(cfg *config.Config) database {
	switch {
	case cfg.UsesPostgres():
		return database{open: openPostgres, migrate: migratePostgres}
	case cfg.UsesMongo():
		return database{open: openMongo, migrate: migrateMongo}
	default:
		return database{open: openSQLite, migrate: migrateSQLite}
	}
}

// OpenStore opens the configured database and applies its migrations (or
// creates its collections and indexes). Every command, the test harness
// and the benchmarks' seeding open their store here.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (blog.Store, error) {
	return databaseFor(cfg).open(ctx, cfg, log)
}

// Migrate brings the configured database's schema up to date and closes
// it again, returning a line that says what it did.
func Migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) (string, error) {
	return databaseFor(cfg).migrate(ctx, cfg, log)
}

func openPostgres(ctx context.Context, cfg *config.Config, log *slog.Logger) (blog.Store, error) {
	logPostgresTarget(log, cfg.DatabaseURL)
	return postgres.Open(ctx, cfg.DatabaseURL)
}

func migratePostgres(ctx context.Context, cfg *config.Config, log *slog.Logger) (string, error) {
	logPostgresTarget(log, cfg.DatabaseURL)
	n, err := postgres.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("applied %d migration(s) to PostgreSQL", n), nil
}

// logPostgresTarget says what start-up is about to wait for, so that an
// operator watching a silent start knows which host it is stuck on.
func logPostgresTarget(log *slog.Logger, url string) {
	if addr, timeout, ok := postgres.Target(url); ok {
		wait := "no time-out (connect_timeout=0)"
		if timeout > 0 {
			wait = timeout.String() + " per attempt (connect_timeout in the URL changes it)"
		}
		log.Info("connecting to PostgreSQL", "addr", addr, "wait", wait)
	}
}

func openMongo(ctx context.Context, cfg *config.Config, log *slog.Logger) (blog.Store, error) {
	s, err := mongo.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if f := s.Features(); !f.TTLIndexes || !f.SchemaValidation {
		// FerretDB, for one, has neither; the hourly prune then does
		// what TTL indexes would.
		log.Warn("MongoDB server lacks some features; the store works without them",
			"ttlIndexes", f.TTLIndexes, "schemaValidation", f.SchemaValidation)
	}
	return s, nil
}

func migrateMongo(ctx context.Context, cfg *config.Config, _ *slog.Logger) (string, error) {
	f, err := mongo.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("MongoDB collections and indexes ready (TTL indexes: %v, schema validation: %v)", f.TTLIndexes, f.SchemaValidation), nil
}

func openSQLite(ctx context.Context, cfg *config.Config, _ *slog.Logger) (blog.Store, error) {
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, cfg.SQLitePath())
}

func migrateSQLite(ctx context.Context, cfg *config.Config, _ *slog.Logger) (string, error) {
	if err := cfg.EnsureDataDir(); err != nil {
		return "", err
	}
	n, err := sqlite.Migrate(ctx, cfg.SQLitePath())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("applied %d migration(s) to %s", n, cfg.SQLitePath()), nil
}
