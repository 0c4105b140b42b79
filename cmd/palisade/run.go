package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/logging"
)

// usage lists the subcommands.
const usage = `Usage: palisade <command> [flags]

Commands:
  serve     run the blog server (the default)
  migrate   apply database migrations and exit
  user      create, list, promote, demote, disable or enable accounts (palisade user --help)
  invite    make, list or revoke single-use invite links (palisade invite --help)
  site      set the site's title and description (palisade site --help)
  backup    write a backup of the blog to a file (palisade backup --help)
  restore   restore a backup into an empty database (palisade restore --help)
  version   print the version

Run "palisade <command> --help" for the command's flags.
`

// errUsage marks a command-line mistake (exit status 2). The command has
// printed its usage, once, to standard error.
var errUsage = config.ErrUsage

// run is the whole program behind main: arguments, environment (as
// os.Environ returns it) and standard streams come in as parameters, so
// tests run the real thing.
func run(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := newEnvironment(environ)
	cmd := "serve"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help"):
		cmd, args = "help", nil
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, env, stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args, env, stdout, stderr)
	case "user":
		err = userCmd(ctx, args, env, stdin, stdout, stderr)
	case "invite":
		err = inviteCmd(ctx, args, env, stdout, stderr)
	case "site":
		err = siteCmd(ctx, args, env, stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args, env, stdout, stderr)
	case "restore":
		err = restoreCmd(ctx, args, env, stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "palisade", version())
	case "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// environment is the process environment: values by name, and the names,
// to report the PALISADE_ ones that are no setting.
type environment struct {
	vars  map[string]string
	names []string
}

// newEnvironment reads os.Environ's KEY=value form; the first of duplicate
// keys wins, as with os.Getenv.
func newEnvironment(environ []string) environment {
	e := environment{vars: make(map[string]string, len(environ))}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := e.vars[k]; !dup {
			e.vars[k] = v
			e.names = append(e.names, k)
		}
	}
	return e
}

func (e environment) get(key string) string { return e.vars[key] }

// loadConfig reads the configuration of one command, with .env from the
// working directory, and returns it with the command's logger, having
// logged the configuration's warnings. Help goes to stdout; a usage
// mistake prints printUsage to stderr, once.
func loadConfig(name string, args []string, env environment, stdout, stderr io.Writer, printUsage func(io.Writer)) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(name, args, env.get, ".env", stdout)
	if errors.Is(err, config.ErrUsage) {
		printUsage(stderr)
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	cfg.Warnings = append(config.UnknownVariables(env.names, "environment"), cfg.Warnings...)
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	return cfg, log, nil
}

// commandUsage prints the flags of the command named name.
func commandUsage(name string) func(io.Writer) {
	return func(w io.Writer) { config.PrintUsage(name, w) }
}

// stampedVersion is set by the release build (scripts/release) with
// -ldflags "-X main.stampedVersion=v1.2.3".
var stampedVersion string

// version is the release's stamped version, else the module version the
// go command stamps (go install …@v1.2.3), else "devel".
func version() string {
	if stampedVersion != "" {
		return stampedVersion
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
