// Command palisade-bench load-tests Palisade with wrk, beside a bare
// net/http reference that serves the same JSON with no middleware, and
// prints the results as a Markdown table.
//
// Usage, from anywhere in the repository (Linux only: it reads /proc):
//
//	go run ./cmd/palisade-bench                      # or: scripts/bench
//	go run ./cmd/palisade-bench --duration 30s --connections 128
//	go run ./cmd/palisade-bench --scale 1000000      # 1M posts: is the feed's cost flat with size?
//	go run ./cmd/palisade-bench --only posts,login   # scenarios whose name contains a word
//
// It installs wrk from Debian if it is missing (apt-get, as root; otherwise
// it asks you to install wrk), builds Palisade and this tool into a
// temporary directory, seeds a fresh SQLite database through the store
// (100 users, 10,000 posts of 1–2 KB Markdown), starts Palisade on loopback
// in production mode with every middleware on (logging at info to a file,
// rate limits raised so they count but never refuse) and the bare
// reference beside it, drives each scenario with wrk, checks that no
// write was lost, and prints the table to standard output (progress goes to
// standard error). Everything it starts is stopped at the end, on error and
// on Ctrl-C. The temporary directory is removed after a successful run
// unless --keep is given, and kept (its path printed) after a failure.
//
// The bare reference is this program too:
//
//	palisade-bench bare --addr 127.0.0.1:PORT --data DIR/palisade.db --ids IDS-FILE
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := runBare(os.Args[2:]); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "palisade-bench bare:", err)
			os.Exit(1)
		}
		return
	}
	opts, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "palisade-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts); err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted; everything it started is stopped")
		}
		fmt.Fprintln(os.Stderr, "palisade-bench:", err)
		stop()
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	duration    time.Duration // of each measured wrk run
	warmup      time.Duration // unmeasured run before each read scenario
	timeout     time.Duration // wrk's per-request timeout
	threads     int
	connections int
	stormConns  int // connections hammering POST /auth/login in the storm scenario
	users       int
	posts       int
	scale       bool // --scale was given
	only        []string
	keep        bool
	luaDir      string
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("palisade-bench", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured wrk run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured wrk run before each read scenario (0 to skip)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "wrk's per-request timeout (slower answers count as timeouts)")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.IntVar(&o.connections, "connections", 64, "wrk connections")
	fs.IntVar(&o.stormConns, "storm-connections", 200, "connections hammering POST /auth/login during the storm scenario")
	fs.IntVar(&o.users, "users", 100, "users to seed (one of them signs in)")
	fs.IntVar(&o.posts, "posts", 10_000, "posts to seed")
	scale := fs.Int("scale", 0, "seed this many posts instead (e.g. 1000000) and compare the first page of GET /posts with one half-way down")
	only := fs.String("only", "", "comma-separated words: run only the scenarios whose name contains one (case-insensitive)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, database, logs)")
	fs.StringVar(&o.luaDir, "lua-dir", "", "directory of the wrk Lua scripts (default: scripts/wrk in the repository)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: go run ./cmd/palisade-bench [flags]\n\nLoad-tests Palisade against a bare net/http reference with wrk and prints a Markdown table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *scale > 0 {
		o.posts, o.scale = *scale, true
	}
	for _, w := range strings.Split(*only, ",") {
		if w = strings.TrimSpace(w); w != "" {
			o.only = append(o.only, strings.ToLower(w))
		}
	}
	switch {
	case o.duration < time.Second:
		return nil, errors.New("--duration must be at least 1s")
	case o.threads < 1 || o.connections < o.threads:
		return nil, errors.New("--threads must be at least 1 and --connections at least --threads")
	case o.users < 1 || o.posts < 2*20:
		return nil, errors.New("--users must be at least 1 and --posts at least 40 (two pages)")
	case o.stormConns < 1:
		return nil, errors.New("--storm-connections must be at least 1")
	}
	return o, nil
}

// run is the whole benchmark.
func run(ctx context.Context, o *options) (err error) {
	began := time.Now()
	wrkPath, err := ensureWrk(ctx)
	if err != nil {
		return err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if o.luaDir == "" {
		o.luaDir = filepath.Join(root, "scripts", "wrk")
	}
	if _, err := os.Stat(filepath.Join(o.luaDir, "common.lua")); err != nil {
		return fmt.Errorf("wrk Lua scripts: %w (set --lua-dir)", err)
	}

	tmp, err := os.MkdirTemp("", "palisade-bench-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() {
		if (err != nil && ctx.Err() == nil) || o.keep {
			logf("kept %s (binaries, database, server logs)", tmp)
			return
		}
		if err := os.RemoveAll(tmp); err != nil {
			logf("could not remove %s: %v", tmp, err)
		}
	}()

	bins, err := build(ctx, root, tmp)
	if err != nil {
		return err
	}
	seeded, err := seed(ctx, filepath.Join(tmp, "data"), tmp, o)
	if err != nil {
		return err
	}

	host := describeMachine(ctx, wrkPath)

	var servers serverSet
	defer servers.stopAll()
	bare, err := startBare(ctx, bins.bench, seeded, tmp)
	if err != nil {
		return err
	}
	servers.add(bare)
	pal, err := startPalisade(ctx, bins.palisade, seeded.dataDir, tmp)
	if err != nil {
		return err
	}
	servers.add(pal)
	logf("palisade up in %v (pid %d, idle RSS %s); bare reference up (pid %d)", pal.coldStart.Round(time.Millisecond), pal.pid, mb(pal.idleRSSKB), bare.pid)
	shape, err := compareFeeds(ctx, pal, bare)
	if err != nil {
		return err
	}

	b := &bench{o: o, wrk: wrkPath, pal: pal, bare: bare, seeded: seeded}
	if err := b.runAll(ctx); err != nil {
		return err
	}

	// Stop Palisade before counting, so the database is quiet and closed.
	if err := pal.stop(); err != nil {
		logf("stopping palisade: %v", err)
	}
	check, err := checkWrites(ctx, seeded, b.created, o.connections)
	if err != nil {
		return err
	}
	logs := inspectLog(pal.logPath)

	rep := &report{
		opts:    o,
		rows:    b.rows,
		pal:     pal,
		bare:    bare,
		seeded:  seeded,
		shape:   shape,
		writes:  check,
		logs:    logs,
		machine: host,
		elapsed: time.Since(began),
	}
	rep.print(os.Stdout)
	if !check.ok() {
		return errors.New("writes were lost: see the table's notes")
	}
	return nil
}

// logf prints progress to standard error, keeping standard output for the
// table.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "palisade-bench: "+format+"\n", args...)
}

// moduleRoot is the directory of the palisade go.mod, found by the go
// command from the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run from the palisade repository")
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", gomod, err)
	}
	if !strings.Contains(string(data), "module github.com/palisade-blog/palisade\n") {
		return "", fmt.Errorf("%s is not Palisade's: run from the palisade repository", gomod)
	}
	return filepath.Dir(gomod), nil
}

// binaries are the programs built for the run.
type binaries struct{ palisade, bench string }

// build compiles Palisade and this tool (for the bare reference) into dir.
func build(ctx context.Context, root, dir string) (binaries, error) {
	b := binaries{palisade: filepath.Join(dir, "palisade"), bench: filepath.Join(dir, "palisade-bench")}
	for _, t := range []struct{ out, pkg string }{{b.palisade, "./cmd/palisade"}, {b.bench, "./cmd/palisade-bench"}} {
		logf("go build -o %s %s", t.out, t.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.out, t.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %w\n%s", t.pkg, err, out)
		}
	}
	return b, nil
}

// ensureWrk returns the path of wrk, installing it from Debian first if it
// is missing and we are root.
func ensureWrk(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("wrk is not installed: install it (sudo apt-get install -y wrk, or brew install wrk) and run again")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("wrk is not installed and there is no apt-get: install wrk and run again")
	}
	install := func() error {
		logf("wrk is missing: apt-get install -y wrk")
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "wrk")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		// The package lists may be missing or stale.
		logf("apt-get update")
		update := exec.CommandContext(ctx, "apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		if err := update.Run(); err != nil {
			return "", fmt.Errorf("apt-get update: %w", err)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("apt-get install wrk: %w", err)
		}
	}
	return exec.LookPath("wrk")
}
