package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/backup"
	"github.com/palisade-blog/palisade/internal/backup/schedule"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/redis"
	"github.com/palisade-blog/palisade/internal/server"
)

// gcPercent is serve's default GOGC (see serve).
const gcPercent = 200

func serve(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	cfg, log, err := loadConfig("serve", args, env, stdout, stderr, commandUsage("serve"))
	if err != nil {
		return err
	}
	if err := cfg.EnsureDevSecrets(); err != nil {
		return err
	}
	// One line says what this server runs with, never a secret.
	log.LogAttrs(ctx, slog.LevelInfo, "configuration", cfg.Summary()...)

	// Collect garbage when the heap has tripled rather than doubled: a
	// request allocates a fair amount (a page of the feed is ~100 KB), and
	// at Go's default the collector took 12-15% of the CPU under load. Here
	// GET /posts served ~20% more for ~15 MB more peak memory. An operator's
	// own GOGC wins.
	if env.get("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}

	// The certificate first: a server that can't serve it must not start.
	var certs *server.CertReloader
	if cfg.TLSCert != "" {
		certs, err = server.NewCertReloader(cfg.TLSCert, cfg.TLSKey, server.DefaultReloadInterval, log)
		if err != nil {
			return fmt.Errorf("PALISADE_TLS_CERT, PALISADE_TLS_KEY: %w", err)
		}
		// In production an expired certificate is an outage that looks
		// like a running server: refuse it, loudly. Development serves it
		// (old self-signed certificates are common there), with the ERROR
		// line the reloader has logged.
		if cfg.Production() && certs.Expired() {
			return fmt.Errorf("PALISADE_TLS_CERT: %s EXPIRED on %s; renew it before starting in production",
				cfg.TLSCert, certs.Certificate().Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}

	if cfg.RedisURL != "" {
		redis.SetLogger(log) // process-wide, so here rather than in app.Build
	}
	a, err := app.Build(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Warn("closing the store or Redis failed", "error", err)
		}
	}()
	backups, err := newBackupScheduler(cfg, a)
	if err != nil {
		return err
	}
	var inFlight atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		a.Handler.ServeHTTP(w, r)
	})

	listeners, err := listen(cfg, handler, certs, log)
	if err != nil {
		return err
	}
	go pruneExpired(ctx, a.Store, log)
	// Scheduled backups stop with the first signal: one in progress is
	// abandoned (it leaves no file), and serve waits for that before it
	// closes the store.
	backupCtx, stopBackups := context.WithCancel(ctx)
	backupsDone := make(chan struct{})
	go func() {
		defer close(backupsDone)
		if backups != nil {
			backups.Run(backupCtx)
		}
	}()
	defer func() {
		stopBackups()
		<-backupsDone
	}()
	for _, l := range listeners {
		scheme, msg := "http", "palisade listening"
		if l.TLS {
			scheme = "https"
		} else if certs != nil {
			msg = "redirecting plain HTTP to HTTPS"
		}
		log.Info(msg, "addr", scheme+"://"+l.Listener.Addr().String(), "env", cfg.Env, "version", version())
	}
	if a.SetupURL != "" {
		printSetupLink(stderr, a.SetupURL, log)
	}
	// ServeAll runs under its own context, ended by announceDrain once it
	// has said what the stop waits for, so that line comes first.
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	served := make(chan struct{})
	go announceDrain(ctx, served, stopServing, &inFlight, log)
	err = server.ServeAll(serveCtx, listeners...)
	close(served)
	log.Info("palisade stopped")
	return err
}

// newBackupScheduler returns the scheduler of PALISADE_BACKUP_DIR, nil
// when it is unset. A directory that can't be made or that other users
// may write stops start-up.
func newBackupScheduler(cfg *config.Config, a *app.App) (*schedule.Scheduler, error) {
	if cfg.BackupDir == "" {
		return nil, nil
	}
	s, err := schedule.New(schedule.Options{
		Dir:      cfg.BackupDir,
		Interval: cfg.BackupInterval,
		Keep:     cfg.BackupKeep,
		Store:    a.Store,
		Log:      a.Log,
		Backup:   backup.Options{Store: storeKind(cfg), PalisadeVersion: version(), Recipients: cfg.BackupRecipients},
	})
	if err != nil {
		return nil, fmt.Errorf("PALISADE_BACKUP_DIR: %w", err)
	}
	return s, nil
}

// printSetupLink writes the setup link of an instance without an admin to
// the console (standard error) as a plain line, whatever the log level and
// format: whoever reads it owns the instance, so it must not be filtered
// out by PALISADE_LOG_LEVEL (a fresh production instance would print
// nothing) nor flow as a log record into log pipelines that others read.
// The log gets a line saying that a link was printed, never the link.
// (The access log never records query strings, so opening the link does
// not log it either.)
func printSetupLink(console io.Writer, link string, log *slog.Logger) {
	_, _ = fmt.Fprintf(console, "\nNo admin yet: open this link within an hour to create the admin account (it works once; a restart prints a new one):\n\n    %s\n\n",
		link) // best effort: the log line below says where to look
	log.Info("no admin yet: a one-time setup link was printed to the console (standard error)")
}

// announceDrain waits for ctx to end (the first Ctrl-C or SIGTERM), says how
// many requests the server is waiting for and how to stop without waiting,
// then stops the server gracefully. It returns without a word if the
// server stops first (a listener failed).
func announceDrain(ctx context.Context, served <-chan struct{}, stopServing context.CancelFunc, inFlight *atomic.Int64, log *slog.Logger) {
	select {
	case <-served:
	case <-ctx.Done():
		n := inFlight.Load()
		log.Info(fmt.Sprintf("draining %d request(s) for up to %s (press Ctrl-C again to stop now)", n, server.ShutdownTimeout),
			"inFlight", n)
		stopServing()
	}
}

// listen opens the application's listener on PALISADE_ADDR: HTTPS with
// the certificate from certs when there is one, else plain HTTP. With
// PALISADE_HTTP_REDIRECT_ADDR, a second, plain-HTTP listener there only
// redirects to HTTPS at the host of PALISADE_BASE_URL.
func listen(cfg *config.Config, handler http.Handler, certs *server.CertReloader, log *slog.Logger) ([]server.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("PALISADE_ADDR: %w", err)
	}
	if certs == nil {
		return []server.Listener{{Server: server.New(handler, log), Listener: ln}}, nil
	}
	listeners := []server.Listener{{Server: server.NewTLS(handler, log, certs.GetCertificate), Listener: ln, TLS: true}}
	if cfg.HTTPRedirectAddr != "" {
		rln, err := net.Listen("tcp", cfg.HTTPRedirectAddr)
		if err != nil {
			_ = ln.Close() // nothing was served on it; the listen error is the one to report
			return nil, fmt.Errorf("PALISADE_HTTP_REDIRECT_ADDR: %w", err)
		}
		listeners = append(listeners, server.Listener{Server: server.NewRedirect(cfg.BaseURL, log), Listener: rln})
	}
	return listeners, nil
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
