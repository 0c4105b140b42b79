// Package server wraps Palisade's routes in its security middleware and
// runs them with the time-outs a public server needs. The routes
// themselves are wired in internal/app.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/cors"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/api"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/metrics"
	"github.com/palisade-blog/palisade/internal/redis"
)

// Deps are what the middleware chain needs.
type Deps struct {
	Config   *config.Config
	Log      *slog.Logger
	Limiter  httpsec.Limiter // PALISADE_RATE_LIMIT, every route
	ClientIP *httpsec.ClientIP
	// Routes answers every request the chain lets through: the API, with
	// the website behind it.
	Routes http.Handler
	// ErrorPage renders the website's error page, for a browser that gets
	// a response the chain gives itself (rate limited, busy, a panic).
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, message string)
}

// NewHandler returns the whole application: routes wrapped in the
// security middleware, in this order (outermost first):
//
//  1. RequestID: first, so every later step and log line can name the request.
//  2. Access log: outside Recover and the rate limiter, so a 500 from a
//     panic and every 429 are logged like any response.
//  3. Recover: a panic becomes a logged 500 with a request ID.
//  4. SecureHeaders: on every response, errors, 421s and 429s included.
//  5. AllowedHosts: a request for a host name that isn't ours (DNS
//     rebinding) gets a 421 before CORS, the limiter or any handler: it is
//     for no one here, and counting it would spend the budget of the
//     victim whose browser sent it.
//  6. CORS: before the limiter, so a 429 carries the CORS headers a
//     browser needs to show it to the calling page.
//  7. RateLimit: before routing, so unknown routes (scanners) count too.
func NewHandler(d Deps) http.Handler {
	// "OPTIONS *" asks about the server rather than a resource. net/http
	// would answer it itself, outside this chain and so without the
	// security headers; New turns that off so it arrives here instead.
	routes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "*" && r.Method == http.MethodOptions {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		d.Routes.ServeHTTP(w, r)
	})

	cfg := d.Config
	return httpsec.Chain(routes,
		httpsec.RequestID(),
		logging.Middleware(d.Log, d.ClientIP),
		httpsec.Recover(d.onPanic),
		httpsec.SecureHeaders(httpsec.HeaderOptions{CSP: httpsec.APICSP, HSTS: cfg.Production()}),
		httpsec.AllowedHosts(hostOptions(cfg)),
		corsMiddleware(cfg.CORSOrigins),
		httpsec.RateLimit(httpsec.RateLimitOptions{
			Limiter: d.Limiter,
			Rate:    cfg.RateLimit,
			Key:     func(r *http.Request) string { return httpsec.RateKey(d.ClientIP.Addr(r)) },
			// Health checks and metrics are exempt: a load balancer or a
			// scraper polls them from one address far more often than 100
			// times in 15 minutes, and they do no work worth limiting.
			Skip: func(r *http.Request) bool { return unlimited[r.URL.Path] },
			OnLimited: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				logging.Security(r.Context(), d.Log, "rate_limited")
				if httpsec.Accepts(r, "text/html") {
					d.ErrorPage(w, r, http.StatusTooManyRequests, "Too many requests, please try again later.")
					return
				}
				api.WriteRateLimited(w, r)
			}),
			OnError: func(w http.ResponseWriter, r *http.Request, err error) bool {
				if redis.IsUnreachable(err) {
					// The general limit fails open when the counter store
					// is out of reach: its outage must not take the whole
					// blog down. Sign-in throttling fails closed (see
					// api.takeLoginAttempt). Counted in /metrics.
					d.Log.ErrorContext(r.Context(), metrics.RateLimitFailedOpen, "error", err)
					return true
				}
				// Any other failure (no Redis connection free in time
				// during a burst) says this instance is busy, not that
				// the store is gone: opening the limit then would let
				// exactly the burst through. Shed the request instead.
				d.Log.WarnContext(r.Context(), "rate limiter busy", "error", err)
				w.Header().Set("Retry-After", "1")
				if httpsec.Accepts(r, "text/html") {
					d.ErrorPage(w, r, http.StatusServiceUnavailable, "The server is busy, please try again in a moment.")
					return false
				}
				api.WriteBusy(w, r)
				return false
			},
		}),
	)
}

// unlimited are the paths the general rate limit does not count.
var unlimited = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// anyHost are the paths answered whatever the Host header: load balancers
// probe health by address, and scrapers reach each instance by address.
// What they answer (alive or not, which dependency is down, counters) is
// of no use to a rebinding page.
var anyHost = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// hostOptions are the Host headers answered. In production, only the host
// of PALISADE_BASE_URL, and its port if that isn't the scheme's default. In
// development also the loopback names, and any port, since test and dev
// servers listen on whatever port is free.
func hostOptions(cfg *config.Config) httpsec.HostOptions {
	base := cfg.BaseURL
	opts := httpsec.HostOptions{Skip: func(r *http.Request) bool { return anyHost[r.URL.Path] }}
	if !cfg.Production() {
		opts.Hosts, opts.AnyPort, opts.Loopback = []string{base.Host}, true, true
		return opts
	}
	defaultPort := map[string]string{"http": "80", "https": "443"}[base.Scheme]
	switch port := base.Port(); port {
	case "":
		opts.Hosts = []string{base.Host, base.Host + ":" + defaultPort}
	case defaultPort:
		opts.Hosts = []string{strings.TrimSuffix(base.Host, ":"+port), base.Host}
	default:
		opts.Hosts = []string{base.Host}
	}
	return opts
}

// onPanic logs a recovered panic with its stack and answers a 500 that
// shows only the request ID: a page to a browser, JSON to anyone else.
func (d Deps) onPanic(w http.ResponseWriter, r *http.Request, v any, stack []byte) {
	d.Log.LogAttrs(r.Context(), slog.LevelError, "panic",
		slog.String("requestId", httpsec.RequestIDFrom(r.Context())), slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(stack)))
	if httpsec.Accepts(r, "text/html") {
		d.ErrorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. If it keeps happening, tell the site's operator the request ID below.")
		return
	}
	api.WriteInternalError(w, r)
}

// corsMiddleware allows the configured origins to call the API from a
// browser. Credentials are never allowed: the API authenticates by the
// Authorization header, which a page must add itself, so cookies are of no
// use cross-origin and "*" stays safe.
func corsMiddleware(origins []string) httpsec.Middleware {
	if len(origins) == 0 {
		// No origin is allowed: send no CORS headers at all, and let
		// browsers apply the same-origin policy.
		return func(next http.Handler) http.Handler { return next }
	}
	c := cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"Link", "Location", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-Id"},
		AllowCredentials: false,
		MaxAge:           600,
	})
	return c.Handler
}

// Timeouts of the HTTP server. ReadHeaderTimeout stops Slowloris (headers
// dribbled in to hold connections open); ReadTimeout bounds a slow body;
// WriteTimeout bounds a handler plus a slow reader; IdleTimeout reclaims
// kept-alive connections.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 64 << 10
	ShutdownTimeout   = 20 * time.Second
)

// New returns an *http.Server with Palisade's time-outs. Every request
// reaches h, "OPTIONS *" included, so it gets h's security headers.
func New(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:                      h,
		DisableGeneralOptionsHandler: true,
		ReadHeaderTimeout:            ReadHeaderTimeout,
		ReadTimeout:                  ReadTimeout,
		WriteTimeout:                 WriteTimeout,
		IdleTimeout:                  IdleTimeout,
		MaxHeaderBytes:               MaxHeaderBytes,
		ErrorLog:                     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve runs srv on ln until ctx is done, then shuts down gracefully:
// in-flight requests finish (up to ShutdownTimeout), new ones are refused.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
