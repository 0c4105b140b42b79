package main

import (
	"context"
	"fmt"
	"io"

	"github.com/palisade-blog/palisade/internal/app"
)

func migrateCmd(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	cfg, log, err := loadConfig("migrate", args, env, stdout, stderr, commandUsage("migrate"))
	if err != nil {
		return err
	}
	done, err := app.Migrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, done)
	return nil
}
