package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"

	// Registers the "sqlite" driver, as the store uses it.
	_ "github.com/palisade-blog/palisade/internal/sqlite"
)

// writeCheck compares the posts in the database with the 201 answers.
type writeCheck struct {
	seeded, created int64 // posts seeded; 201 answers during the run
	inDB            int64 // posts in the database after Palisade stopped
	sessions        int64 // website sessions stored (GET / must create none)
	conns           int
}

// ok reports that no acknowledged write is missing. The database may hold
// a few more posts than 201s counted: requests in flight when wrk stopped
// were committed but their answers never read.
func (c writeCheck) ok() bool { return c.inDB >= c.seeded+c.created }

// extra is how many more posts there are than acknowledged.
func (c writeCheck) extra() int64 { return c.inDB - c.seeded - c.created }

// checkWrites counts posts and sessions in the database, which Palisade
// has closed by now, read-only.
func checkWrites(ctx context.Context, sd *seeded, created int64, conns int) (writeCheck, error) {
	c := writeCheck{seeded: int64(sd.posts), created: created, conns: conns}
	db, err := sql.Open("sqlite", "file:"+sd.dbPath+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return c, fmt.Errorf("open the database to count posts: %w", err)
	}
	defer func() { _ = db.Close() }()
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM posts`).Scan(&c.inDB); err != nil {
		return c, fmt.Errorf("count posts: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&c.sessions); err != nil {
		return c, fmt.Errorf("count sessions: %w", err)
	}
	return c, nil
}

// logSummary describes Palisade's log after the run.
type logSummary struct {
	bytes, lines, requests int64
	responses5xx           int64            // request lines for a 5xx answer
	errors, warnings       int64            // other lines
	errorKinds             map[string]int64 // other errors by message
	err                    error
}

// inspectLog counts the lines of Palisade's JSON log by level.
func inspectLog(path string) logSummary {
	s := logSummary{errorKinds: map[string]int64{}}
	f, err := os.Open(path)
	if err != nil {
		s.err = err
		return s
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		s.lines++
		s.bytes += int64(len(line)) + 1
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Error string `json:"error"`
		}
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		if e.Msg == "request" {
			s.requests++
			if e.Level == "ERROR" {
				s.responses5xx++ // logged at error level, but the answers are counted by wrk
			}
			continue
		}
		switch e.Level {
		case "ERROR":
			s.errors++
			kind := e.Msg
			if e.Error != "" {
				kind += ": " + e.Error
			}
			s.errorKinds[kind]++
		case "WARN":
			s.warnings++
		}
	}
	s.err = sc.Err()
	return s
}
