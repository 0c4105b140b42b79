package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

const inviteUsage = `Usage:
  palisade invite create [--role author|admin] [--expires 7d] [flags]
                             make a single-use invite link and print it (once: only a hash
                             of it is stored). The link is PALISADE_BASE_URL/register?invite=…;
                             the website's page that accepts it comes in a later release.
                             --role is the new account's role (default author); --expires
                             its lifetime, in days (7d) or a Go duration (12h), at most 30d.
  palisade invite list [flags]        list invites, newest first, with their status
  palisade invite revoke ID [flags]   make an unused invite unusable

Flags are those of "palisade serve" that locate the database (--data-dir, --database-url)
and the site (--base-url).
`

// inviteCmd makes, lists and revokes invites from the command line.
func inviteCmd(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, inviteUsage)
		return nil
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprint(stderr, inviteUsage)
		return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr("invite needs an action")
	}
	action, rest := args[0], args[1:]
	role, lifetime, id := blog.RoleAuthor, blog.DefaultInviteLifetime, ""
	switch action {
	case "create":
		var v string
		var ok bool
		var err error
		if v, rest, ok, err = takeFlag(rest, "role"); err != nil {
			return usageErr("%v", err)
		} else if ok {
			role = blog.Role(v)
			if !role.Valid() {
				return usageErr("--role must be author or admin")
			}
		}
		if v, rest, ok, err = takeFlag(rest, "expires"); err != nil {
			return usageErr("%v", err)
		} else if ok {
			if lifetime, err = parseLifetime(v); err != nil {
				return usageErr("--expires: %v", err)
			}
		}
	case "list":
	case "revoke":
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			return usageErr("invite revoke needs an invite ID")
		}
		id, rest = rest[0], rest[1:]
	default:
		return usageErr("unknown invite action %q", action)
	}
	store, cfg, closeStore, err := openCommandStore(ctx, "invite", rest, env, stdout, stderr, inviteUsage)
	if err != nil {
		return err
	}
	defer closeStore()

	switch action {
	case "create":
		token, hash := blog.NewInviteToken()
		inv, err := store.CreateInvite(ctx, blog.NewInvite{TokenHash: hash, Role: role, ExpiresAt: blog.Now().Add(lifetime)})
		if err != nil {
			return commandFailure("create invite", err)
		}
		fmt.Fprintln(stdout, inviteLink(cfg.BaseURL, token))
		fmt.Fprintf(stderr, "invite %s for an %s, single use, expires %s UTC; the link is shown only now\n",
			inv.ID, inv.Role, inv.ExpiresAt.Format(time.DateTime))
		return nil
	case "list":
		return listInvites(ctx, store, stdout)
	default: // revoke
		if err := store.RevokeInvite(ctx, id); err != nil {
			return commandFailure("revoke invite "+id, err)
		}
		fmt.Fprintf(stdout, "revoked invite %s\n", id)
		return nil
	}
}

// inviteLink is the link that carries the token: the registration page of
// the site at base.
func inviteLink(base *url.URL, token string) string {
	u := base.JoinPath("register")
	u.RawQuery = url.Values{"invite": {token}}.Encode()
	return u.String()
}

// listInvites prints the invites as a table, with the username of the
// account each one made.
func listInvites(ctx context.Context, store blog.Store, stdout io.Writer) error {
	invites, err := store.ListInvites(ctx)
	if err != nil {
		return commandFailure("list invites", err)
	}
	users, err := store.ListUsers(ctx)
	if err != nil {
		return commandFailure("list invites", err)
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Username
	}
	now := blog.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tSTATUS\tCREATED (UTC)\tEXPIRES (UTC)\tCREATED BY\tUSED BY")
	for _, inv := range invites {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inv.ID, inv.Role, inv.Status(now),
			inv.CreatedAt.Format(time.DateTime), inv.ExpiresAt.Format(time.DateTime),
			orDash(names, inv.CreatedBy, "command line"), orDash(names, inv.UsedBy, "-"))
	}
	return tw.Flush()
}

// orDash names the user with this ID, or says none for an empty one.
func orDash(names map[string]string, id, none string) string {
	switch {
	case id == "":
		return none
	case names[id] != "":
		return names[id]
	default:
		return id
	}
}

// takeFlag removes the flag --name VALUE (or --name=VALUE, or with one
// dash) from args, for a command's own flags, which the configuration's
// flag set does not know.
func takeFlag(args []string, name string) (value string, rest []string, found bool, err error) {
	for i, a := range args {
		flagName, v, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || flagName != name {
			continue
		}
		rest = append(args[:i:i], args[i+1:]...)
		if !hasValue {
			if i+1 >= len(args) {
				return "", nil, false, fmt.Errorf("flag needs an argument: -%s", name)
			}
			v, rest = args[i+1], append(args[:i:i], args[i+2:]...)
		}
		return v, rest, true, nil
	}
	return "", args, false, nil
}

// parseLifetime reads an invite's lifetime: whole days ("7d") or a Go
// duration ("12h", "90m"), more than zero and at most
// blog.MaxInviteLifetime.
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is neither days (7d) nor a duration (12h)", s)
		}
	}
	if d <= 0 || d > blog.MaxInviteLifetime {
		return 0, fmt.Errorf("%q: an invite lasts more than 0 and at most 30 days", s)
	}
	return d, nil
}
