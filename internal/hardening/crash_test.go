package hardening_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestCrashSafety runs the real binary, kills it with SIGKILL in the middle
// of a write load, restarts it on the same data directory and checks that
// every post whose creation was acknowledged (201) is still there and that
// SQLite's integrity check passes. Twenty rounds on one growing database.
//
// SIGKILL is a process crash, not a power cut: what the process handed to
// the kernel survives, so with WAL even synchronous=NORMAL must keep every
// acknowledged commit.
//
// It runs on SQLite only: the file and its WAL are the application's to
// keep safe; on PostgreSQL or MongoDB the server keeps them (the scale-out
// tests kill those connections instead).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it twenty times; skipped with -short")
	}
	const (
		rounds  = 20
		writers = 4
	)
	bin := buildPalisade(t)
	dataDir := t.TempDir()
	env := func() map[string]string {
		return map[string]string{
			"PALISADE_DATA_DIR":         dataDir,
			"PALISADE_ADDR":             apptest.FreeAddr(t),
			"PALISADE_RATE_LIMIT":       "100000000/15m",
			"PALISADE_LOGIN_RATE_LIMIT": "100000000/15m",
			"PALISADE_LOG_LEVEL":        "warn",
			"PALISADE_REGISTRATION":     "open", // writers register through the API
		}
	}
	dbPath := filepath.Join(dataDir, "palisade.db")

	var (
		acked    []string // every acknowledged post, all rounds
		previous []string // acknowledged in the round before this start
	)
	start := time.Now()
	for round := 0; round <= rounds; round++ {
		p, err := startPalisade(t, bin, env(), "serve")
		if err != nil {
			t.Fatalf("start %d: %v", round, err)
		}
		base := "http://" + p.addr

		// After a crash: the database is sound and nothing acknowledged
		// was lost. The posts of the round just killed are checked each
		// time, and every post after the last round.
		check := previous
		if round == rounds {
			check = acked
		}
		if err := integrityCheck(dbPath); err != nil {
			p.kill()
			t.Fatalf("after kill %d: %v", round, err)
		}
		if missing := unreadable(base, check); len(missing) > 0 {
			p.kill()
			t.Fatalf("after kill %d: %d of %d acknowledged posts are gone, e.g. %v\n%s", round, len(missing), len(check), missing[0], p.stderr.String())
		}
		if round == rounds {
			p.kill()
			break
		}

		api := apptest.NewClient(t, base)
		api.HTTP.Timeout = 10 * time.Second
		if round == 0 {
			api.Register(t, "crash_user")
		}
		token := api.Login(t, "crash_user")

		// The load: writers create posts as fast as they can until the
		// process dies under them.
		ctx, cancel := context.WithCancel(context.Background())
		var (
			mu    sync.Mutex
			ids   []string
			wg    sync.WaitGroup
			fails int
		)
		client := &http.Client{Timeout: 5 * time.Second}
		for w := range writers {
			wg.Go(func() {
				for n := 0; ctx.Err() == nil; n++ {
					body, _ := json.Marshal(map[string]string{
						"title":   fmt.Sprintf("Round %d writer %d post %d", round, w, n),
						"content": "Written under load, then the server was killed.",
					})
					req, _ := http.NewRequestWithContext(ctx, "POST", base+"/posts", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := client.Do(req)
					if err != nil {
						continue // the process is gone (or going)
					}
					var created struct{ Post struct{ ID string } }
					data, _ := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					mu.Lock()
					if resp.StatusCode == http.StatusCreated && json.Unmarshal(data, &created) == nil && created.Post.ID != "" {
						ids = append(ids, created.Post.ID)
					} else if ctx.Err() == nil {
						fails++
					}
					mu.Unlock()
				}
			})
		}
		after := 100*time.Millisecond + rand.N(500*time.Millisecond)
		time.Sleep(after)
		p.kill()
		cancel()
		wg.Wait()
		if fails > 0 {
			t.Errorf("round %d: %d writes failed before the kill", round, fails)
		}
		if len(ids) == 0 {
			t.Fatalf("round %d: no post was acknowledged in %v", round, after)
		}
		t.Logf("round %2d: killed after %3dms, %4d posts acknowledged", round+1, after.Milliseconds(), len(ids))
		previous = ids
		acked = append(acked, ids...)
	}
	t.Logf("%d rounds, %d acknowledged posts all readable, integrity ok; %v", rounds, len(acked), time.Since(start).Round(time.Millisecond))
}

// integrityCheck runs PRAGMA integrity_check on the database (read-only,
// beside the running server).
func integrityCheck(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity_check: %q", msgs)
	}
	return nil
}

// unreadable returns the IDs for which GET /posts/{id} is not a 200.
func unreadable(base string, ids []string) []string {
	var (
		mu      sync.Mutex
		missing []string
		wg      sync.WaitGroup
		next    = make(chan string)
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for range 8 {
		wg.Go(func() {
			for id := range next {
				resp, err := client.Get(base + "/posts/" + id)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				if !ok {
					mu.Lock()
					missing = append(missing, fmt.Sprintf("%s (%v)", id, statusOrErr(resp, err)))
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	return missing
}

func statusOrErr(resp *http.Response, err error) any {
	if err != nil {
		return err
	}
	return resp.Status
}
