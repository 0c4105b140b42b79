package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/palisade-blog/palisade/internal/blog"
)

const siteUsage = `Usage:
  palisade site set title VALUE [flags]         set the blog's title (1 to 100 characters)
  palisade site set description VALUE [flags]   set its description (at most 500; "" for none)
  palisade site show [flags]                    print both

The website shows them on every page. Flags are those of "palisade serve" that locate the
database (--data-dir, --database-url).
`

// siteCmd reads and changes the site settings from the command line.
func siteCmd(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, siteUsage)
		return nil
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprint(stderr, siteUsage)
		return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
	}
	if len(args) == 0 {
		return usageErr("site needs an action")
	}
	action, rest := args[0], args[1:]
	var field, value string
	switch action {
	case "show":
	case "set":
		if len(rest) < 2 || (rest[0] != "title" && rest[0] != "description") {
			return usageErr("site set needs title or description, and a value")
		}
		// The value is taken as it is, even if it starts with a dash.
		field, value, rest = rest[0], rest[1], rest[2:]
	default:
		return usageErr("unknown site action %q", action)
	}
	store, _, closeStore, err := openCommandStore(ctx, "site", rest, env, stdout, stderr, siteUsage)
	if err != nil {
		return err
	}
	defer closeStore()

	st, err := store.Settings(ctx)
	if err != nil {
		return commandFailure("read site settings", err)
	}
	if action == "show" {
		fmt.Fprintf(stdout, "title: %s\ndescription: %s\n", st.Title, st.Description)
		return nil
	}
	if field == "title" {
		st.Title = value
	} else {
		st.Description = value
	}
	if err := st.Clean(); err != nil {
		return fmt.Errorf("site set %s: %s", field, validationMessage(err))
	}
	if err := store.SetSettings(ctx, st); err != nil {
		return commandFailure("site set "+field, err)
	}
	fmt.Fprintf(stdout, "site %s set\n", field)
	return nil
}

// validationMessage is the messages of a *blog.ValidationError, or the
// error as it is.
func validationMessage(err error) string {
	var verr *blog.ValidationError
	if !errors.As(err, &verr) {
		return err.Error()
	}
	msgs := make([]string, len(verr.Fields))
	for i, f := range verr.Fields {
		msgs[i] = f.Msg
	}
	return strings.Join(msgs, "; ")
}
