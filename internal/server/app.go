package server

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/api"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/markdown"
	"github.com/palisade-blog/palisade/internal/web"
)

// App builds the whole handler from the configuration and an open store.
// The serve command and the end-to-end tests both call it, so the tests
// exercise exactly the wiring that runs in production. hasher may be nil
// for auth.DefaultParams (tests pass cheaper parameters).
func App(cfg *config.Config, store blog.Store, log *slog.Logger, hasher *auth.Hasher) (http.Handler, error) {
	tokens, err := auth.NewTokens(auth.TokenConfig{
		Secret:   cfg.JWTSecret,
		Issuer:   cfg.BaseURL.String(),
		Audience: "palisade-api",
		TTL:      cfg.JWTTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("PALISADE_JWT_SECRET: %w", err)
	}
	if hasher == nil {
		hasher = auth.NewHasher(auth.DefaultParams, 0, 0)
	}
	clientIP := httpsec.NewClientIP(cfg.TrustedProxies)
	// One sign-in service and one Markdown renderer for both front doors,
	// so the API and the website throttle and sanitise identically.
	accounts := &account.Service{
		Store:   store,
		Hasher:  hasher,
		Limiter: httpsec.NewMemoryLimiter(cfg.LoginRateLimit, httpsec.MemoryOptions{}),
		Log:     log,
	}
	md := markdown.New()
	site, err := web.New(web.Deps{
		Store:    store,
		Accounts: accounts,
		Markdown: md,
		Sessions: web.NewSessions(store, cfg.Production()),
		Log:      log,
		ClientIP: clientIP,
		BaseURL:  cfg.BaseURL,
	})
	if err != nil {
		return nil, err
	}
	return NewHandler(Deps{
		Config:  cfg,
		Log:     log,
		Limiter: httpsec.NewMemoryLimiter(cfg.RateLimit, httpsec.MemoryOptions{}),
		API: &api.Deps{
			Store:    store,
			Accounts: accounts,
			Tokens:   tokens,
			Markdown: md,
			Log:      log,
			ClientIP: clientIP,
			BaseURL:  cfg.BaseURL,
			Ready:    ReadyChecks(store),
		},
		Web: site,
	}), nil
}
