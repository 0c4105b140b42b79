package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

const userUsage = `Usage:
  palisade user create NAME [--admin] [flags]   password is read from standard input
  palisade user promote NAME [flags]            make NAME an admin
  palisade user disable NAME [flags]            disable NAME and revoke its tokens

Flags are those of "palisade serve" that locate the database (--data-dir, --database-url).
`

// userCmd manages accounts from the command line: the only way to make the
// first admin, since the API never lets a client choose its role.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	if len(args) < 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("%w: user needs an action and a name", errUsage)
	}
	action, name, rest := args[0], args[1], args[2:]
	admin := false
	if action == "create" {
		for i, a := range rest {
			if a == "--admin" || a == "-admin" {
				admin, rest = true, append(rest[:i:i], rest[i+1:]...)
				break
			}
		}
	}
	cfg, err := loadConfig("user", rest, getenv, stderr)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, logging.New(stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	defer store.Close()

	switch action {
	case "create":
		password, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password: %w", err)
		}
		reg := blog.Registration{Username: name, Password: strings.TrimRight(password, "\r\n")}
		if err := reg.Clean(auth.IsCommonPassword); err != nil {
			return err
		}
		hash, err := auth.NewHasher(auth.DefaultParams, 1, 0).Hash(ctx, reg.Password)
		if err != nil {
			return err
		}
		role := blog.RoleUser
		if admin {
			role = blog.RoleAdmin
		}
		u, err := store.CreateUser(ctx, blog.NewUser{Username: reg.Username, PasswordHash: hash, Role: role})
		if err != nil {
			return fmt.Errorf("create %s: %s", name, blog.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Username, u.ID)
		return nil
	case "promote", "disable":
		u, err := store.UserByUsername(ctx, name)
		if err != nil {
			return fmt.Errorf("%s %s: %s", action, name, blog.ErrorMessage(err))
		}
		if action == "promote" {
			err = store.SetRole(ctx, u.ID, blog.RoleAdmin)
		} else {
			err = store.DisableUser(ctx, u.ID)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", action, name, err)
		}
		fmt.Fprintf(stdout, "%sd %s\n", action, u.Username) // promoted, disabled
		return nil
	default:
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("%w: unknown user action %q", errUsage, action)
	}
}
