// Package app is Palisade's composition root: it opens what the
// configuration names (the database, Redis) and wires the whole
// application over it. The serve command, the end-to-end tests
// (internal/apptest) and the benchmarks all build the application here,
// so the tests exercise exactly the wiring that runs in production.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/redis"
)

// Options are what the configuration does not say.
type Options struct {
	Log *slog.Logger
	// Hasher may be nil for auth.DefaultParams (tests pass cheaper ones).
	Hasher *auth.Hasher
}

// App is the application, built and ready to serve.
type App struct {
	// Handler answers every request: the security middleware, the API and
	// the website.
	Handler http.Handler
	Store   blog.Store
	// Redis is nil unless PALISADE_REDIS_URL is set.
	Redis *redis.Client
}

// Build opens the database (applying its migrations) and, if configured,
// Redis, then wires the application over them. The caller closes the App.
func Build(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	store, err := OpenStore(ctx, cfg, o.Log)
	if err != nil {
		return nil, err
	}
	a := &App{Store: store}
	if cfg.RedisURL != "" {
		a.Redis, err = redis.Open(ctx, cfg.RedisURL, redis.Options{Prefix: cfg.RedisPrefix})
		if err != nil {
			_ = store.Close() // the Redis error is the one to report
			return nil, fmt.Errorf("PALISADE_REDIS_URL: %w", err)
		}
	}
	if a.Handler, err = Wire(cfg, a.Store, a.Redis, o); err != nil {
		_ = a.Close() // the wiring error is the one to report
		return nil, err
	}
	return a, nil
}

// Close closes Redis and the database.
func (a *App) Close() error {
	var errs []error
	if a.Redis != nil {
		if err := a.Redis.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close Redis: %w", err))
		}
	}
	if err := a.Store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close the store: %w", err))
	}
	return errors.Join(errs...)
}
