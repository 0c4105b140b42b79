package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
)

// openCommandStore loads the configuration of an administrative command
// (user, invite, site) and opens its store. The returned function closes
// the store; a failure to close is logged, not returned, since the
// command has already done (and reported) its work by then.
func openCommandStore(ctx context.Context, name string, args []string, env environment, stdout, stderr io.Writer, usage string) (blog.Store, *config.Config, func(), error) {
	c, err := openCommand(ctx, name, args, env, stdout, stderr, usage)
	if err != nil {
		return nil, nil, nil, err
	}
	return c.store, c.cfg, c.close, nil
}

// command is what an administrative command works with.
type command struct {
	store blog.Store
	cfg   *config.Config
	log   *slog.Logger // to stderr, as serve logs
	close func()
}

// openCommand is openCommandStore with the command's logger, for a
// command whose action is logged as the same action on the website is.
func openCommand(ctx context.Context, name string, args []string, env environment, stdout, stderr io.Writer, usage string) (command, error) {
	cfg, log, err := loadConfig(name, args, env, stdout, stderr, func(w io.Writer) { fmt.Fprint(w, usage) })
	if err != nil {
		return command{}, err
	}
	store, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return command{}, err
	}
	return command{store: store, cfg: cfg, log: log, close: func() {
		if err := store.Close(); err != nil {
			log.Warn("closing the store failed", "error", err)
		}
	}}, nil
}
