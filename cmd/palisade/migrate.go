package main

import (
	"context"
	"fmt"
	"io"

	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

func migrateCmd(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("migrate", args, env, stdout, stderr, commandUsage("migrate"))
	if err != nil {
		return err
	}
	if cfg.UsesPostgres() {
		logPostgresTarget(logging.New(stderr, cfg.LogLevel, cfg.LogFormat), cfg.DatabaseURL)
		n, err := postgres.Migrate(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s) to PostgreSQL\n", n)
		return nil
	}
	if cfg.UsesMongo() {
		f, err := mongo.Migrate(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "MongoDB collections and indexes ready (TTL indexes: %v, schema validation: %v)\n", f.TTLIndexes, f.SchemaValidation)
		return nil
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return err
	}
	n, err := sqlite.Migrate(ctx, cfg.SQLitePath())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s) to %s\n", n, cfg.SQLitePath())
	return nil
}
