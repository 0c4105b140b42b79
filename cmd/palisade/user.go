package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
)

const userUsage = `Usage:
  palisade user create NAME [--admin] [flags]   asks for the password (at a terminal, without
                                                echo) or reads its first line from standard input
  palisade user promote NAME [flags]            make NAME an admin
  palisade user disable NAME [flags]            disable NAME and revoke its tokens

Flags are those of "palisade serve" that locate the database (--data-dir, --database-url).
`

// userCmd manages accounts from the command line: the only way to make the
// first admin, since the API never lets a client choose its role.
func userCmd(ctx context.Context, args []string, env environment, stdin io.Reader, stdout, stderr io.Writer) error {
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
	cfg, log, err := loadConfig("user", rest, env, stdout, stderr, func(w io.Writer) { fmt.Fprint(w, userUsage) })
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Warn("closing the store failed", "error", err)
		}
	}()

	switch action {
	case "create":
		password, err := readPassword(ctx, stdin, stderr, name)
		if err != nil {
			return err
		}
		reg := blog.Registration{Username: name, Password: password}
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

// readPassword reads the new account's password. At a terminal it prompts
// on stderr and reads without echo, twice to catch a typo; from a pipe or
// a file it reads the first line, without a prompt (scripts).
func readPassword(ctx context.Context, stdin io.Reader, stderr io.Writer, name string) (string, error) {
	if fd, ok := terminalFD(stdin); ok {
		first, err := promptPassword(ctx, fd, stderr, fmt.Sprintf("Password for %s: ", name))
		if err != nil {
			return "", err
		}
		again, err := promptPassword(ctx, fd, stderr, "Repeat it: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the two passwords differ")
		}
		return first, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// terminalFD returns r's file descriptor if r is a terminal.
func terminalFD(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// promptPassword prints prompt and reads a line from the terminal fd
// without echo. An interrupt (ctx ends) gives the terminal its echo back
// before returning, which a blocked term.ReadPassword would not do.
func promptPassword(ctx context.Context, fd int, stderr io.Writer, prompt string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(stderr, prompt)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(stderr) // the Enter that was not echoed
		if r.err != nil {
			return "", fmt.Errorf("read password: %w", r.err)
		}
		return string(r.b), nil
	case <-ctx.Done():
		// The reading goroutine stays blocked on the terminal; the
		// process is about to exit, which ends it.
		if err := term.Restore(fd, state); err != nil {
			return "", fmt.Errorf("interrupted; restore the terminal with `stty sane`: %w", err)
		}
		fmt.Fprintln(stderr)
		return "", errors.New("interrupted")
	}
}
