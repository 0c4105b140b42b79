package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/redis"
	"github.com/palisade-blog/palisade/internal/server"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// loadConfig reads the configuration of one command, with .env from the
// working directory.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config.Config, error) {
	return config.Load(name, args, getenv, ".env", stderr)
}

// openStore opens the configured database and applies its migrations:
// PostgreSQL for a postgres:// URL, else SQLite in the data directory.
func openStore(ctx context.Context, cfg *config.Config) (blog.Store, error) {
	if err := unsupported(cfg); err != nil {
		return nil, err
	}
	if cfg.UsesPostgres() {
		return postgres.Open(ctx, cfg.DatabaseURL)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, cfg.SQLitePath())
}

// unsupported refuses settings this build accepts but cannot honour yet,
// rather than starting without what the operator asked for (plain HTTP
// instead of TLS, per-instance limits instead of shared ones).
func unsupported(cfg *config.Config) error {
	switch {
	case cfg.DatabaseURL != "" && !cfg.UsesPostgres():
		return fmt.Errorf("PALISADE_DATABASE_URL: this build supports SQLite and PostgreSQL, not MongoDB yet")
	case cfg.TLSCert != "":
		return fmt.Errorf("PALISADE_TLS_CERT: this build does not serve HTTPS itself yet; terminate TLS at a reverse proxy and unset it")
	}
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	if err := cfg.EnsureDevSecrets(); err != nil {
		return err
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)

	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()

	parts := server.Parts{Store: store, Log: log}
	if cfg.RedisURL != "" {
		redis.SetLogger(log)
		rdb, err := redis.Open(ctx, cfg.RedisURL, redis.Options{Prefix: cfg.RedisPrefix})
		if err != nil {
			return fmt.Errorf("PALISADE_REDIS_URL: %w", err)
		}
		defer rdb.Close()
		parts.Redis = rdb
	}
	handler, err := server.App(cfg, parts)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("PALISADE_ADDR: %w", err)
	}
	go pruneExpired(ctx, store, log)
	log.Info("palisade listening", "addr", "http://"+ln.Addr().String(), "env", cfg.Env, "version", version())
	err = server.Serve(ctx, server.New(handler, log), ln)
	log.Info("palisade stopped")
	return err
}

// pruneExpired forgets revoked tokens that have expired anyway and
// expired sessions, so both tables stay as small as what is live.
func pruneExpired(ctx context.Context, store blog.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := store.PruneRevocations(ctx, now); err != nil {
				log.Warn("pruning revoked tokens failed", "error", err)
			}
			if err := store.PruneSessions(ctx, now); err != nil {
				log.Warn("pruning sessions failed", "error", err)
			}
		}
	}
}
