package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Express figures quoted from an earlier measurement elsewhere: the tutorial's
// Express server, for comparison only.
const (
	expressLabel     = "Express (quoted figure)"
	expressFeedRPS   = 2700
	expressCreateRPS = 830
)

// scenario is one measured wrk run against one server.
type scenario struct {
	name    string // shown in the table; --only matches it
	srv     *server
	path    string
	script  string   // Lua file in the scripts directory, or ""
	headers []string // extra request headers
	warm    bool     // run an unmeasured warm-up first (reads only)
	writes  bool     // sends POST /posts: needs a token, 201s are counted

	key      string  // names the row for ratios
	ref      string  // key of the row this one is compared with
	refLabel string  // how the ratio names it
	express  float64 // req/s of the Express figure to compare with, or 0
}

// row is one line of the table.
type row struct {
	scenario, server string
	res              *wrkResult // nil for a quoted figure
	use              usage
	fixedRPS         float64 // a quoted figure's req/s
	key, ref         string
	refLabel         string
	express          float64
	reference        bool    // a reference row
	wrkPct           float64 // wrk's own CPU, % of one core
	otherPct         float64 // everything else on the machine, % of one core
}

func (r *row) rps() float64 {
	if r.res == nil {
		return r.fixedRPS
	}
	return r.res.reqPerSec
}

// bench runs the scenarios and collects their rows.
type bench struct {
	o         *options
	wrk       string
	pal, bare *server
	seeded    *seeded
	rows      []*row
	created   int64 // 201 answers to POST /posts, over every scenario
}

func (b *bench) scenarios() []scenario {
	deep := fmt.Sprintf("GET /posts?cursor=… (page at post %d)", b.seeded.deepPosition)
	return []scenario{
		{name: "GET /posts", srv: b.pal, path: "/posts", warm: true, key: "pal-feed", ref: "bare-feed", refLabel: "bare", express: expressFeedRPS},
		{name: "GET /posts", srv: b.bare, path: "/posts", warm: true, key: "bare-feed"},
		{name: deep, srv: b.pal, path: "/posts?cursor=" + b.seeded.deepCursor, warm: true, key: "pal-deep", ref: "pal-feed", refLabel: "page 1"},
		{name: "GET /healthz (middleware, trivial handler)", srv: b.pal, path: "/healthz", warm: true, key: "pal-health", ref: "bare-ok", refLabel: "bare /ok"},
		{name: "GET /ok", srv: b.bare, path: "/ok", warm: true, key: "bare-ok"},
		{name: "GET /posts/{id} (random)", srv: b.pal, path: "/posts", script: "ids.lua", warm: true, key: "pal-post", ref: "bare-post", refLabel: "bare"},
		{name: "GET /posts/{id} (random)", srv: b.bare, path: "/posts", script: "ids.lua", warm: true, key: "bare-post"},
		{name: "GET / (HTML home page)", srv: b.pal, path: "/", headers: []string{"Accept: text/html"}, warm: true, key: "pal-home"},
		{name: "POST /posts (signed in, unique)", srv: b.pal, path: "/posts", script: "post.lua", writes: true, key: "pal-create", express: expressCreateRPS},
		{name: "POST /auth/login (argon2id)", srv: b.pal, path: "/auth/login", script: "login.lua", key: "pal-login"},
		{name: "mixed: 90% GET /posts, /posts/{id}; 10% POST /posts", srv: b.pal, path: "/posts", script: "mixed.lua", writes: true, key: "pal-mixed"},
	}
}

// stormName is the last scenario's, for --only.
const stormName = "GET /posts during a POST /auth/login storm"

func (b *bench) selected(name string) bool {
	if len(b.o.only) == 0 {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range b.o.only {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func (b *bench) runAll(ctx context.Context) error {
	ran := 0
	for _, sc := range b.scenarios() {
		if !b.selected(sc.name) {
			continue
		}
		if err := b.run(ctx, sc); err != nil {
			return fmt.Errorf("%s on %s: %w", sc.name, sc.srv.name, err)
		}
		ran++
		// The quoted figure goes under the rows it is compared with.
		switch sc.key {
		case "bare-feed":
			b.rows = append(b.rows, &row{scenario: "GET /posts", server: expressLabel, fixedRPS: expressFeedRPS, reference: true})
		case "pal-create":
			b.rows = append(b.rows, &row{scenario: sc.name, server: expressLabel, fixedRPS: expressCreateRPS, reference: true})
		}
	}
	if b.selected(stormName) {
		if err := b.storm(ctx); err != nil {
			return fmt.Errorf("%s: %w", stormName, err)
		}
		ran++
	}
	if ran == 0 {
		return errors.New("--only matched no scenario")
	}
	return nil
}

// wrkFor builds the wrk run of a scenario, signing in first if it writes.
func (b *bench) wrkFor(ctx context.Context, sc scenario, threads, conns int) (wrkRun, error) {
	w := wrkRun{
		url:      sc.srv.base + sc.path,
		threads:  threads,
		conns:    conns,
		duration: b.o.duration,
		timeout:  b.o.timeout,
		headers:  sc.headers,
		env: []string{
			"BENCH_IDS=" + b.seeded.idsFile,
			"BENCH_CONTENT=" + b.seeded.contentFile,
			"BENCH_USER=" + benchUsername,
			"BENCH_PASSWORD=" + benchPassword,
			fmt.Sprintf("BENCH_RUN=%s-%d", sc.key, time.Now().UnixNano()),
		},
	}
	if sc.script != "" {
		w.script = filepath.Join(b.o.luaDir, sc.script)
	}
	if sc.writes {
		// A fresh token per scenario: tokens live 15 minutes by default,
		// less than a long run.
		token, err := login(ctx, b.pal)
		if err != nil {
			return w, err
		}
		w.env = append(w.env, "BENCH_TOKEN="+token)
	}
	return w, nil
}

func (b *bench) run(ctx context.Context, sc scenario) error {
	if !sc.srv.alive() {
		return fmt.Errorf("%s has exited: %v (log: %s)", sc.srv.name, sc.srv.waitErr, sc.srv.logPath)
	}
	w, err := b.wrkFor(ctx, sc, b.o.threads, b.o.connections)
	if err != nil {
		return err
	}
	if sc.warm && b.o.warmup > 0 {
		warm := w
		warm.duration = b.o.warmup
		if _, err := warm.run(ctx, b.wrk); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	logf("%s on %s: %v…", sc.name, sc.srv.name, b.o.duration)
	m := startMeter(sc.srv.pid)
	res, err := w.run(ctx, b.wrk)
	use := m.finish()
	if err != nil {
		return err
	}
	if !sc.srv.alive() {
		return fmt.Errorf("%s exited during the run: %v (log: %s)", sc.srv.name, sc.srv.waitErr, sc.srv.logPath)
	}
	if sc.writes {
		b.created += res.statuses[201]
	}
	b.add(sc, res, use, 0)
	return nil
}

// add records a row. otherWrkPct is the CPU of a second wrk running in the
// same window (the storm), so that what is left is other processes' load.
func (b *bench) add(sc scenario, res *wrkResult, use usage, otherWrkPct float64) {
	r := &row{scenario: sc.name, server: sc.srv.name, res: res, use: use, key: sc.key, ref: sc.ref, refLabel: sc.refLabel, express: sc.express, reference: sc.srv == b.bare}
	if res.elapsed > 0 {
		r.wrkPct = res.wrkCPU.Seconds() / res.elapsed.Seconds() * 100
	}
	r.otherPct = max(0, use.machinePct-use.cpuPct-r.wrkPct-otherWrkPct)
	b.rows = append(b.rows, r)
	logf("  %.0f req/s, p50 %v, p99 %v, %d errors, CPU %.0f%%, RSS %s; wrk %.0f%%, other processes %.0f%%, steal %.0f%%",
		res.reqPerSec, res.p50, res.p99, res.errors(), use.cpuPct, mb(use.rssKB), r.wrkPct, r.otherPct, use.stealPct)
}

// storm measures GET /posts while --storm-connections other connections
// sign in as fast as they can: does the argon2id work queue starve reads?
func (b *bench) storm(ctx context.Context) error {
	threads := max(1, b.o.threads/2)
	loginSc := scenario{name: "POST /auth/login ×" + fmt.Sprint(b.o.stormConns) + " conns (the storm, same window)", srv: b.pal, path: "/auth/login", script: "login.lua", key: "pal-storm-login"}
	feedSc := scenario{name: stormName, srv: b.pal, path: "/posts", key: "pal-storm-feed", ref: "pal-feed", refLabel: "GET /posts alone"}

	lw, err := b.wrkFor(ctx, loginSc, threads, max(threads, b.o.stormConns))
	if err != nil {
		return err
	}
	// The storm starts first and ends last, so it covers the whole
	// measured window.
	lw.duration = b.o.duration + 3*time.Second
	fw, err := b.wrkFor(ctx, feedSc, threads, max(threads, b.o.connections))
	if err != nil {
		return err
	}
	logf("%s: %v…", stormName, b.o.duration)
	lp, err := lw.start(ctx, b.wrk)
	if err != nil {
		return err
	}
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
	m := startMeter(b.pal.pid)
	feed, feedErr := fw.run(ctx, b.wrk)
	use := m.finish()
	logins, loginErr := lp.wait()
	if err := errors.Join(feedErr, loginErr); err != nil {
		return err
	}
	if !b.pal.alive() {
		return fmt.Errorf("palisade exited during the run: %v (log: %s)", b.pal.waitErr, b.pal.logPath)
	}
	// Both wrk processes ran in the window; the login one a little longer.
	b.add(feedSc, feed, use, logins.wrkCPU.Seconds()/lw.duration.Seconds()*100)
	b.add(loginSc, logins, use, feed.wrkCPU.Seconds()/fw.duration.Seconds()*100)
	return nil
}
