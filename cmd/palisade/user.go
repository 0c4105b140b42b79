package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/sealed"
)

const userUsage = `Usage:
  palisade user create NAME [--admin] [flags]   asks for the password (at a terminal, without
                                                echo) or reads its first line from standard input
  palisade user promote NAME [flags]            make NAME an admin
  palisade user demote NAME [flags]             make NAME an author again
  palisade user disable NAME [flags]            disable NAME and revoke its tokens and sessions
  palisade user enable NAME [flags]             let NAME sign in again (old sessions stay ended)
  palisade user list [flags]                    list the accounts: username, role, disabled, two-factor, created
  palisade user reset-2fa NAME [flags]          turn off NAME's two-factor sign-in (a lost phone) and
                                                end its sessions: NAME signs in with the password alone
  palisade user rekey-2fa [flags]               re-seal every authenticator secret under the first
                                                PALISADE_2FA_KEYS key, so older keys can then be removed

The last enabled admin can be neither demoted nor disabled: promote another first.
Flags are those of "palisade serve" that locate the database (--data-dir, --database-url).
`

// userActions are the actions of "palisade user", and whether each takes
// a NAME.
var userActions = map[string]bool{"create": true, "promote": true, "demote": true, "disable": true, "enable": true, "list": false,
	"reset-2fa": true, "rekey-2fa": false}

// userCmd manages accounts from the command line: the way to make the
// first admin without the website's setup link, and to manage accounts
// with no website at all.
func userCmd(ctx context.Context, args []string, env environment, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("%w: user needs an action", errUsage)
	}
	action, rest := args[0], args[1:]
	needsName, known := userActions[action]
	if !known {
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("%w: unknown user action %q", errUsage, action)
	}
	var name string
	if needsName {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprint(stderr, userUsage)
			return fmt.Errorf("%w: user %s needs a name", errUsage, action)
		}
		name, rest = rest[0], rest[1:]
	}
	admin := false
	if action == "create" {
		for i, a := range rest {
			if a == "--admin" || a == "-admin" {
				admin, rest = true, append(rest[:i:i], rest[i+1:]...)
				break
			}
		}
	}
	cmdName := "user"
	if action == "rekey-2fa" {
		// The one user command that reads a secret: the keys it re-seals with.
		cmdName = config.RekeyCommand
	}
	c, err := openCommand(ctx, cmdName, rest, env, stdout, stderr, userUsage)
	if err != nil {
		return err
	}
	defer c.close()
	store := c.store

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
		role := blog.RoleAuthor
		if admin {
			role = blog.RoleAdmin
		}
		u, err := store.CreateUser(ctx, blog.NewUser{Username: reg.Username, PasswordHash: hash, Role: role})
		if err != nil {
			return fmt.Errorf("create %s: %s", name, blog.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Username, u.ID)
		return nil
	case "list":
		return listUsers(ctx, store, stdout)
	case "reset-2fa":
		return resetTwoFactor(ctx, c, name, stdout)
	case "rekey-2fa":
		return rekeyTwoFactor(ctx, c, stdout)
	default: // promote, demote, disable, enable
		u, err := store.UserByUsername(ctx, name)
		if err != nil {
			return fmt.Errorf("%s %s: %s", action, name, blog.ErrorMessage(err))
		}
		switch action {
		case "promote":
			err = store.SetRole(ctx, u.ID, blog.RoleAdmin)
		case "demote":
			err = store.SetRole(ctx, u.ID, blog.RoleAuthor)
		case "disable":
			err = store.DisableUser(ctx, u.ID)
		case "enable":
			err = store.EnableUser(ctx, u.ID)
		}
		if err != nil {
			return commandFailure(action+" "+name, err)
		}
		fmt.Fprintf(stdout, "%sd %s\n", action, u.Username) // promoted, demoted, disabled, enabled
		return nil
	}
}

// listUsers prints the accounts as a table.
func listUsers(ctx context.Context, store blog.Store, stdout io.Writer) error {
	users, err := store.ListUsers(ctx)
	if err != nil {
		return commandFailure("list users", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tDISABLED\t2FA\tCREATED (UTC)")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, yesNo(u.Disabled), yesNo(u.HasSecondFactor()), u.CreatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

// twoFactorService is the account service as far as the two-factor
// commands need it: the store and the log, and for rekey the keys.
func twoFactorService(c command) (*account.Service, error) {
	svc := &account.Service{Store: c.store, Factors: c.store, Log: c.log}
	if len(c.cfg.TwoFactorKeys) > 0 {
		keys, err := sealed.New(c.cfg.TwoFactorKeyBytes()...)
		if err != nil {
			return nil, fmt.Errorf("PALISADE_2FA_KEYS: %w", err)
		}
		svc.Keys = keys
	}
	return svc, nil
}

// resetTwoFactor turns off the second factor of the account named name,
// for its owner who lost it. The reset is logged as a security event.
func resetTwoFactor(ctx context.Context, c command, name string, stdout io.Writer) error {
	u, err := c.store.UserByUsername(ctx, name)
	if err != nil {
		return fmt.Errorf("reset-2fa %s: %s", name, blog.ErrorMessage(err))
	}
	svc, err := twoFactorService(c)
	if err != nil {
		return err
	}
	wasOn, err := svc.ResetTwoFactor(ctx, u.ID)
	if err != nil {
		if errors.Is(err, blog.ErrTOTPOff) {
			return fmt.Errorf("reset-2fa %s: the account has no second factor", u.Username)
		}
		return commandFailure("reset-2fa "+name, err)
	}
	if !wasOn {
		// Only an unfinished authenticator-app setup: it signed nobody
		// in, so no version moved and no session ended.
		fmt.Fprintf(stdout, "reset two-factor sign-in of %s: no second factor was on; its unfinished authenticator-app setup was discarded, and its sessions go on\n", u.Username)
		return nil
	}
	fmt.Fprintf(stdout, "reset two-factor sign-in of %s: it signs in with its password alone, and its sessions are ended\n", u.Username)
	return nil
}

// rekeyTwoFactor re-seals every stored TOTP secret under the newest key.
func rekeyTwoFactor(ctx context.Context, c command, stdout io.Writer) error {
	// In development the key is the one serve generated in the data
	// directory.
	if err := c.cfg.EnsureDevTwoFactorKeys(); err != nil {
		return err
	}
	if len(c.cfg.TwoFactorKeys) == 0 {
		return errors.New("rekey-2fa: PALISADE_2FA_KEYS is not set: set it, newest key first, to the keys serve uses")
	}
	svc, err := twoFactorService(c)
	if err != nil {
		return err
	}
	n, err := svc.RekeyTwoFactor(ctx)
	fmt.Fprintf(stdout, "re-sealed %d authenticator secret%s under the first key\n", n, plural(n))
	if err != nil {
		return fmt.Errorf("rekey-2fa: some secrets open with none of the configured keys (was a key removed too early?): %w", err)
	}
	c.log.Info("two-factor secrets re-sealed", "count", n)
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// commandFailure is what a command reports when the store refuses or
// fails: a refusal's message (a *blog.Error's is written for people, such
// as "An instance needs at least one admin"), or the whole error for an
// unexpected failure, which on the command line is the operator's to see.
func commandFailure(what string, err error) error {
	if code := blog.ErrorCode(err); code != blog.EINTERNAL && code != blog.EUNAVAILABLE {
		return fmt.Errorf("%s: %s", what, blog.ErrorMessage(err))
	}
	return fmt.Errorf("%s: %w", what, err)
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
