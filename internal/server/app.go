package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/api"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/markdown"
	"github.com/palisade-blog/palisade/internal/metrics"
	"github.com/palisade-blog/palisade/internal/redis"
	"github.com/palisade-blog/palisade/internal/web"
)

// Parts are what the application runs on, opened by the caller (who also
// closes them).
type Parts struct {
	Store blog.Store
	// Redis, when set (PALISADE_REDIS_URL), holds what all instances must
	// share beyond the database: rate-limit counters, sessions and token
	// revocations. Without it they live in memory and the database.
	Redis *redis.Client
	Log   *slog.Logger
	// Hasher may be nil for auth.DefaultParams (tests pass cheaper ones).
	Hasher *auth.Hasher
}

// App builds the whole handler from the configuration and its parts. The
// serve command and the end-to-end tests both call it, so the tests
// exercise exactly the wiring that runs in production.
func App(cfg *config.Config, p Parts) (http.Handler, error) {
	// Metrics are counted from the log stream (see internal/metrics), so
	// the logger every part gets is wrapped first.
	var reg *metrics.Registry
	if cfg.Metrics {
		reg = metrics.New()
		p.Log = slog.New(reg.WrapHandler(p.Log.Handler()))
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{
		Secret:   cfg.JWTSecret,
		Issuer:   cfg.BaseURL.String(),
		Audience: "palisade-api",
		TTL:      cfg.JWTTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("PALISADE_JWT_SECRET: %w", err)
	}
	hasher := p.Hasher
	if hasher == nil {
		// Half the cores at most hash passwords, so that a flood of
		// sign-ins (each 19 MiB and ~25 ms of argon2id) leaves the rest
		// serving readers; the queue beyond it sheds load with 503s.
		hasher = auth.NewHasher(auth.DefaultParams, max(1, runtime.GOMAXPROCS(0)/2), 0)
	}

	// Shared state: in Redis when there is one, so that a limit is a limit
	// across instances and a sign-out on one is seen by all.
	var (
		limiter, loginLimiter httpsec.Limiter
		sessions              blog.SessionStore    = p.Store
		revocations           blog.RevocationStore = p.Store
		ready                                      = map[string]func(context.Context) error{"database": p.Store.Ping}
	)
	if p.Redis != nil {
		limiter = p.Redis.Limiter(cfg.RateLimit)
		loginLimiter = p.Redis.Limiter(cfg.LoginRateLimit)
		sessions = p.Redis.Sessions()
		revocations = p.Redis.Revocations()
		ready["redis"] = p.Redis.Ping
	} else {
		limiter = httpsec.NewMemoryLimiter(cfg.RateLimit, httpsec.MemoryOptions{})
		loginLimiter = httpsec.NewMemoryLimiter(cfg.LoginRateLimit, httpsec.MemoryOptions{})
	}

	clientIP := httpsec.NewClientIP(cfg.TrustedProxies)
	// One sign-in service and one Markdown renderer for both front doors,
	// so the API and the website throttle and sanitise identically.
	accounts := &account.Service{Store: p.Store, Hasher: hasher, Limiter: loginLimiter, Log: p.Log}
	md := markdown.New()
	site, err := web.New(web.Deps{
		Store:      p.Store,
		Accounts:   accounts,
		Markdown:   md,
		Sessions:   web.NewSessions(sessions, cfg.Production()),
		Log:        p.Log,
		ClientIP:   clientIP,
		BaseURL:    cfg.BaseURL,
		CSRFKey:    cfg.SessionSecret,
		Production: cfg.Production(),
	})
	if err != nil {
		return nil, err
	}
	return NewHandler(Deps{
		Config:  cfg,
		Log:     p.Log,
		Limiter: limiter,
		Metrics: reg,
		API: &api.Deps{
			Store:       p.Store,
			Revocations: revocations,
			Accounts:    accounts,
			Tokens:      tokens,
			Markdown:    md,
			Log:         p.Log,
			ClientIP:    clientIP,
			BaseURL:     cfg.BaseURL,
			Ready:       readyChecks(ready),
		},
		Web: site,
	}), nil
}

// readyChecks runs every dependency's check (for /readyz).
func readyChecks(checks map[string]func(context.Context) error) func(ctx context.Context) map[string]error {
	return func(ctx context.Context) map[string]error {
		out := make(map[string]error, len(checks))
		for name, check := range checks {
			out[name] = check(ctx)
		}
		return out
	}
}
