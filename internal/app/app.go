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
	"net/url"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/metrics"
	"github.com/palisade-blog/palisade/internal/redis"
	"github.com/palisade-blog/palisade/internal/sealed"
)

// Options are what the configuration does not say.
type Options struct {
	Log *slog.Logger
	// Hasher may be nil for an *auth.Hasher with auth.DefaultParams
	// (tests pass cheaper ones, or one that counts its hashes). Leave it
	// unset rather than setting a nil *auth.Hasher, which is not nil here.
	Hasher account.Hasher
	// Setup is the instance's setup link, which Build makes while no
	// admin exists; nil leaves the setup page not found.
	Setup *account.Setup
	// FeedMaxAge is how long the website reuses a feed it built; zero is
	// its default of a few seconds, negative never reuses one (for tests
	// that check a change shows in the feeds at once).
	FeedMaxAge time.Duration
	// Metrics, if set, is the registry GET /metrics serves, and Log
	// already logs through its WrapHandler (Build does both, so that what
	// serve logs beside the handler is counted too); nil makes Wire
	// create one when PALISADE_METRICS is on.
	Metrics *metrics.Registry
}

// App is the application, built and ready to serve.
type App struct {
	// Handler answers every request: the security middleware, the API and
	// the website.
	Handler http.Handler
	Store   blog.Store
	// Redis is nil unless PALISADE_REDIS_URL is set.
	Redis *redis.Client
	// SetupURL is the one-time link that makes the first admin
	// (BASE_URL/setup?token=…), or "" when an admin existed at start-up.
	// It is a credential: serve prints it once on the console, and
	// nothing else may log it.
	SetupURL string
	// Log is the logger the application logs through, counted by
	// /metrics when that is on: what runs beside the handler (scheduled
	// backups) logs here.
	Log *slog.Logger
}

// Build opens the database (applying its migrations) and, if configured,
// Redis, then wires the application over them. The caller closes the App.
func Build(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	store, err := OpenStore(ctx, cfg, o.Log)
	if err != nil {
		return nil, err
	}
	if cfg.Metrics && o.Metrics == nil {
		o.Metrics = metrics.New()
		o.Log = slog.New(o.Metrics.WrapHandler(o.Log.Handler()))
	}
	a := &App{Store: store, Log: o.Log}
	if cfg.RedisURL != "" {
		a.Redis, err = redis.Open(ctx, cfg.RedisURL, redis.Options{Prefix: cfg.RedisPrefix})
		if err != nil {
			_ = store.Close() // the Redis error is the one to report
			return nil, fmt.Errorf("PALISADE_REDIS_URL: %w", err)
		}
	}
	if o.Setup == nil {
		if a.SetupURL, o.Setup, err = newSetup(ctx, cfg, store); err != nil {
			_ = a.Close() // the store's error is the one to report
			return nil, err
		}
	}
	if a.Handler, err = Wire(cfg, a.Store, a.Redis, o); err != nil {
		_ = a.Close() // the wiring error is the one to report
		return nil, err
	}
	checkTwoFactorKeys(ctx, cfg, store, o.Log)
	return a, nil
}

// checkTwoFactorKeys says once, at start-up, how many accounts' TOTP
// secrets the configured PALISADE_2FA_KEYS can't open (the keys were
// lost, unset, or rotated before "palisade user rekey-2fa" ran): without
// it an admin learns only from refused codes, one sign-in at a time. A
// failure of the check itself is logged and start-up goes on: the blog
// works without it.
func checkTwoFactorKeys(ctx context.Context, cfg *config.Config, store blog.Store, log *slog.Logger) {
	keys, err := sealed.New(cfg.TwoFactorKeyBytes()...)
	if err == nil {
		var n int
		if n, err = account.SecretsKeysCannotOpen(ctx, store, keys); err == nil && n > 0 {
			accounts := "accounts"
			if n == 1 {
				accounts = "account"
			}
			log.ErrorContext(ctx, fmt.Sprintf("the authenticator-app secrets of %d %s can't be opened with the configured PALISADE_2FA_KEYS: "+
				"those users can sign in only with a recovery code (or a passkey) until the key that sealed them is restored", n, accounts),
				"accounts", n)
		}
	}
	if err != nil {
		log.WarnContext(ctx, "could not check that PALISADE_2FA_KEYS opens the stored TOTP secrets", "error", err)
	}
}

// newSetup makes the setup link of an instance that has no admin yet: the
// owner claims it with the link serve prints. With an admin, there is none.
func newSetup(ctx context.Context, cfg *config.Config, store blog.Store) (string, *account.Setup, error) {
	has, err := store.HasAdmin(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("look for an admin: %w", err)
	}
	if has {
		return "", nil, nil
	}
	setup, token := account.NewSetup(time.Now())
	link := *cfg.BaseURL
	link.Path = "/setup"
	link.RawQuery = url.Values{"token": {token}}.Encode()
	return link.String(), setup, nil
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
