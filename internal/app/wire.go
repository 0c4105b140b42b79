package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/api"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/markdown"
	"github.com/palisade-blog/palisade/internal/metrics"
	"github.com/palisade-blog/palisade/internal/redis"
	"github.com/palisade-blog/palisade/internal/sealed"
	"github.com/palisade-blog/palisade/internal/server"
	"github.com/palisade-blog/palisade/internal/sitesettings"
	"github.com/palisade-blog/palisade/internal/totp"
	"github.com/palisade-blog/palisade/internal/web"
)

// Wire builds the whole handler over an opened store and, when rdb is not
// nil, Redis. Build calls it; a test calls it again to rebuild the
// application over another store (one that fails, say).
func Wire(cfg *config.Config, store blog.Store, rdb *redis.Client, o Options) (http.Handler, error) {
	log := o.Log
	// Metrics are counted from the log stream (see internal/metrics), so
	// the logger every part gets is wrapped first.
	reg := o.Metrics
	if cfg.Metrics && reg == nil {
		reg = metrics.New()
		log = slog.New(reg.WrapHandler(log.Handler()))
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
	// The token between a sign-in's password and its second factor. Its
	// own audience keeps it from working as an access token (and an
	// access token from standing in for it); five minutes is time enough
	// to open an authenticator app.
	mfaTokens, err := auth.NewTokens(auth.TokenConfig{
		Secret:   cfg.JWTSecret,
		Issuer:   cfg.BaseURL.String(),
		Audience: "palisade-mfa",
		TTL:      5 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("PALISADE_JWT_SECRET: %w", err)
	}
	keys, err := sealed.New(cfg.TwoFactorKeyBytes()...)
	if err != nil {
		return nil, fmt.Errorf("PALISADE_2FA_KEYS: %w", err)
	}
	var require2FA account.Require2FA // unset: the service's default, admins
	if cfg.Require2FA != "" {
		if require2FA, err = account.ParseRequire2FA(cfg.Require2FA); err != nil {
			return nil, fmt.Errorf("PALISADE_REQUIRE_2FA: %w", err)
		}
	}
	hasher := o.Hasher
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
		sessions              blog.SessionStore    = store
		revocations           blog.RevocationStore = store
		ready                                      = map[string]func(context.Context) error{"database": store.Ping}
	)
	if rdb != nil {
		limiter = rdb.Limiter(cfg.RateLimit)
		loginLimiter = rdb.Limiter(cfg.LoginRateLimit)
		sessions = rdb.Sessions()
		revocations = rdb.Revocations()
		ready["redis"] = rdb.Ping
	} else {
		limiter = httpsec.NewMemoryLimiter(cfg.RateLimit, httpsec.MemoryOptions{})
		loginLimiter = httpsec.NewMemoryLimiter(cfg.LoginRateLimit, httpsec.MemoryOptions{})
	}

	// The passkeys' relying party is the blog's own origin: its ID is
	// the base URL's host name, and only pages at that origin may use them.
	origin := (&url.URL{Scheme: cfg.BaseURL.Scheme, Host: cfg.BaseURL.Host}).String()
	relyingParty, err := account.NewWebAuthn(origin, cfg.BaseURL.Hostname(), "Palisade")
	if err != nil {
		return nil, fmt.Errorf("PALISADE_BASE_URL: %w", err)
	}

	clientIP := httpsec.NewClientIP(cfg.TrustedProxies)
	// One sign-in service and one Markdown renderer for both front doors,
	// so the API and the website throttle and sanitise identically.
	// The site's title and description, cached for every page and feed.
	settings := sitesettings.New(store, log)
	accounts := &account.Service{
		Store: store, Hasher: hasher, Limiter: loginLimiter, Log: log,
		Registration: account.Policy(cfg.Registration),
		Setup:        o.Setup,
		Factors:      store,
		Keys:         keys,
		MFATokens:    mfaTokens,
		// The API's revocations: an mfaToken used on one instance is
		// refused on every other.
		Revocations: revocations,
		Require2FA:  require2FA,
		Issuer: func(ctx context.Context) string {
			return totp.Issuer(settings.Get(ctx).Title, cfg.BaseURL.Hostname())
		},
		WebAuthn: relyingParty,
		// A ceremony begun on one instance finishes on another.
		Ceremonies: sessions,
	}
	md := markdown.New()

	// The two front doors share one URL space with disjoint paths. The API
	// routes first and hands what it does not serve to the website, which
	// answers what neither serves: a page to a browser, the API's JSON
	// 404 (or 405) to anyone else.
	site, err := web.New(web.Deps{
		Store:        store,
		Accounts:     accounts,
		Markdown:     md,
		Settings:     settings,
		SessionStore: sessions,
		Log:          log,
		ClientIP:     clientIP,
		BaseURL:      cfg.BaseURL,
		CSRFKey:      cfg.SessionSecret,
		Production:   cfg.Production(),
		NotFound:     api.WriteNotFound,
		FeedMaxAge:   o.FeedMaxAge,
	})
	if err != nil {
		return nil, err
	}
	var metricsHandler http.Handler
	if reg != nil {
		metricsHandler = reg.Handler()
	}
	routes := api.New(api.Deps{
		Store:       store,
		Revocations: revocations,
		Accounts:    accounts,
		Tokens:      tokens,
		Markdown:    md,
		Log:         log,
		ClientIP:    clientIP,
		BaseURL:     cfg.BaseURL,
		Ready:       readyChecks(ready),
		Metrics:     metricsHandler,
		Next:        site,
	})
	return server.NewHandler(server.Deps{
		Config:    cfg,
		Log:       log,
		Limiter:   limiter,
		ClientIP:  clientIP,
		Routes:    routes,
		ErrorPage: site.WriteError,
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
