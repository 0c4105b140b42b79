package mongo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
)

// ferretDB runs scripts/ferretdb for a test: its own server on a free port
// with its own state directory. It skips the test when the script or the
// binary it builds is missing: building FerretDB takes minutes, so the test
// never does it (run `scripts/ferretdb build` once, as CI does).
type ferretDB struct {
	t      *testing.T
	script string
	port   int
	state  string
	pid    int
}

func startFerretDB(t *testing.T) *ferretDB {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "ferretdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("scripts/ferretdb is missing: %v", err)
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	if _, err := os.Stat(filepath.Join(cache, "palisade", "ferretdb-v1.24.2")); err != nil {
		t.Skip("FerretDB is not built: run scripts/ferretdb build")
	}
	f := &ferretDB{t: t, script: script, port: freePort(t), state: t.TempDir()}
	f.start()
	t.Cleanup(func() {
		if out, err := exec.Command("bash", f.script, "stop", f.state).CombinedOutput(); err != nil {
			t.Logf("stop ferretdb: %v: %s", err, out)
		}
	})
	return f
}

func (f *ferretDB) url(db string) string {
	return fmt.Sprintf("mongodb://127.0.0.1:%d/%s", f.port, db)
}

func (f *ferretDB) start() {
	f.t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("bash", f.script, "start", strconv.Itoa(f.port), f.state)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		f.t.Fatalf("start ferretdb: %v: %s", err, stderr.String())
	}
	if f.pid, err = strconv.Atoi(strings.TrimSpace(string(out))); err != nil {
		f.t.Fatalf("start ferretdb printed %q", out)
	}
}

// kill kills the server with SIGKILL, as a crash or the OOM killer would,
// and waits until it is gone.
func (f *ferretDB) kill() {
	f.t.Helper()
	if err := syscall.Kill(f.pid, syscall.SIGKILL); err != nil {
		f.t.Fatalf("kill ferretdb: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(f.pid) {
		if time.Now().After(deadline) {
			f.t.Fatalf("ferretdb %d still alive after SIGKILL", f.pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid runs (a zombie does not).
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces, so look after the ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// TestServerKilledMidLoad writes posts from several goroutines, kills the
// server with SIGKILL, restarts it on the same data, and checks that every
// write the store acknowledged survived, that writes in the outage failed
// as EUNAVAILABLE (a retryable 503, not a 500), and that the same Store
// works again once the server is back, without being reopened.
func TestServerKilledMidLoad(t *testing.T) {
	mongotest.URL(t) // the MongoDB tests are switched on
	f := startFerretDB(t)
	ctx := context.Background()
	s, err := mongo.Open(ctx, f.url("palisade_restart"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	author, err := s.CreateUser(ctx, blog.NewUser{Username: "writer", PasswordHash: "h", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu         sync.Mutex
		acked      []string
		failed     int
		unexpected []error
		wg         sync.WaitGroup
	)
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	stop := make(chan struct{})
	const writers = 4
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded: at most 60 s and 2,000 posts per writer.
			deadline := time.Now().Add(60 * time.Second)
			for i := 0; i < 2000 && time.Now().Before(deadline); i++ {
				select {
				case <-stop:
					return
				default:
				}
				opCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				p, err := s.CreatePost(opCtx, blog.NewPost{AuthorID: author.ID, Title: fmt.Sprintf("w%d-%d", w, i), Content: "written during a restart", ContentHTML: "<p>written during a restart</p>"})
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, p.ID)
				case blog.ErrorCode(err) == blog.EUNAVAILABLE:
					failed++
				default:
					unexpected = append(unexpected, err)
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters()

	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("writes before the kill", 30*time.Second, func() bool { return ackedCount() >= 50 })

	f.kill()
	beforeRestart := ackedCount()
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = s.Ping(pingCtx)
	cancel()
	if blog.ErrorCode(err) != blog.EUNAVAILABLE {
		t.Fatalf("Ping with the server down = %v, want EUNAVAILABLE", err)
	}
	time.Sleep(500 * time.Millisecond) // let writers hit the outage

	f.start()
	waitFor("writes after the restart", 30*time.Second, func() bool { return ackedCount() >= beforeRestart+50 })
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the restart: %v", err)
	}
	stopWriters()

	mu.Lock()
	defer mu.Unlock()
	for _, err := range unexpected {
		t.Errorf("write failed with something other than EUNAVAILABLE: %v", err)
	}
	for _, id := range acked {
		if _, err := s.PostByID(ctx, id); err != nil {
			t.Fatalf("acknowledged post %s lost: %v", id, err)
		}
	}
	total := 0
	for after := (*blog.Cursor)(nil); ; {
		page, next, err := s.ListPosts(ctx, blog.Page{Limit: blog.MaxPageLimit, After: after})
		if err != nil {
			t.Fatal(err)
		}
		total += len(page)
		if next == nil {
			break
		}
		after = next
	}
	// A write cut off by the kill may have been applied without its
	// answer arriving, so the feed may hold more than was acknowledged,
	// never less.
	if total < len(acked) {
		t.Fatalf("feed has %d posts, %d were acknowledged", total, len(acked))
	}
	t.Logf("%d posts acknowledged (%d before the kill), %d failed as unavailable, %d in the feed", len(acked), beforeRestart, failed, total)
}
