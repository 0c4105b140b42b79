package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is a program under test, running on loopback.
type server struct {
	name    string // as shown in the table
	cmd     *exec.Cmd
	pid     int
	base    string // http://127.0.0.1:PORT
	logPath string // its standard output and error

	exited  chan struct{} // closed when it has exited
	waitErr error
	logFile *os.File
	once    sync.Once
	stopErr error

	coldStart time.Duration // start → first 200 of its readiness route
	idleRSSKB int64
}

// Stopping is bounded: SIGTERM, then SIGKILL after stopGrace.
const stopGrace = 10 * time.Second

// startServer starts bin with its output sent to logPath.
func startServer(name, bin string, args, env []string, dir, logPath, addr string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close() // nothing was written to it
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, pid: cmd.Process.Pid, base: "http://" + addr, logPath: logPath, exited: make(chan struct{}), logFile: logFile}
	go func() {
		s.waitErr = cmd.Wait()
		_ = logFile.Close() // the child wrote it, and has exited
		close(s.exited)
	}()
	return s, nil
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop ends the server gracefully if it can, by force if it must. It is
// safe to call more than once.
func (s *server) stop() error {
	s.once.Do(func() {
		if !s.alive() {
			s.stopErr = s.exitError()
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM) // fails only if it just exited, which the wait below sees
		select {
		case <-s.exited:
			s.stopErr = s.exitError()
		case <-time.After(stopGrace):
			_ = s.cmd.Process.Kill() // likewise
			select {
			case <-s.exited:
			case <-time.After(2 * time.Second):
			}
			s.stopErr = fmt.Errorf("%s did not stop within %v and was killed", s.name, stopGrace)
		}
	})
	return s.stopErr
}

func (s *server) exitError() error {
	if s.waitErr != nil {
		return fmt.Errorf("%s: %w (log: %s)", s.name, s.waitErr, s.logPath)
	}
	return nil
}

// serverSet stops every server it holds, in reverse order.
type serverSet struct{ list []*server }

func (ss *serverSet) add(s *server) { ss.list = append(ss.list, s) }

func (ss *serverSet) stopAll() {
	for i := len(ss.list) - 1; i >= 0; i-- {
		if err := ss.list[i].stop(); err != nil {
			logf("%v", err)
		}
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// childEnv is a clean environment: no PALISADE_* or other settings of the
// caller leak into the servers, except the Go runtime's knobs.
func childEnv(home string, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

func newSecret() string {
	b := make([]byte, 48)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startPalisade starts Palisade in production mode on the seeded data and
// measures its cold start and idle memory.
func startPalisade(ctx context.Context, bin, dataDir, tmp string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := childEnv(tmp,
		"PALISADE_ENV=production",
		"PALISADE_ADDR="+addr,
		// Production requires an https origin; TLS would end at a proxy, so
		// plain HTTP on loopback is what Palisade sees in production too.
		// The origin names the listen address because production answers
		// only for the base URL's host, and the load clients send that.
		"PALISADE_BASE_URL=https://"+addr,
		"PALISADE_DATA_DIR="+dataDir,
		"PALISADE_JWT_SECRET="+newSecret(),
		"PALISADE_SESSION_SECRET="+newSecret(),
		"PALISADE_LOG_LEVEL=info",
		"PALISADE_LOG_FORMAT=json",
		// Limits count every request but never refuse one.
		"PALISADE_RATE_LIMIT=1000000000/15m",
		"PALISADE_LOGIN_RATE_LIMIT=1000000000/15m",
	)
	began := time.Now()
	// Its working directory is the temporary one, so no .env is read.
	s, err := startServer("Palisade", bin, []string{"serve"}, env, tmp, filepath.Join(tmp, "palisade.log"), addr)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s, "/healthz"); err != nil {
		_ = s.stop() // the start-up error is the one to report
		return nil, err
	}
	s.coldStart = time.Since(began)
	time.Sleep(time.Second) // let start-up garbage settle before reading idle memory
	if m, err := readMem(s.pid); err == nil {
		s.idleRSSKB = m.rssKB
	}
	return s, nil
}

// startBare starts the reference server (this program's bare command).
func startBare(ctx context.Context, bin string, sd *seeded, tmp string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"bare", "--addr", addr, "--data", sd.dbPath, "--ids", sd.idsFile}
	began := time.Now()
	s, err := startServer("bare net/http", bin, args, childEnv(tmp), tmp, filepath.Join(tmp, "bare.log"), addr)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s, "/ok"); err != nil {
		_ = s.stop() // the start-up error is the one to report
		return nil, err
	}
	s.coldStart = time.Since(began)
	if m, err := readMem(s.pid); err == nil {
		s.idleRSSKB = m.rssKB
	}
	return s, nil
}

var setupClient = &http.Client{Timeout: 10 * time.Second}

// waitReady polls path until it answers 200, for at most a minute.
func waitReady(ctx context.Context, s *server, path string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if !s.alive() {
			return fmt.Errorf("%s exited during start-up: %v (log: %s)", s.name, s.waitErr, s.logPath)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
		if resp, err := setupClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %s within a minute (log: %s)", s.name, path, s.logPath)
}

// get returns the status and body of GET url.
func get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := setupClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// shapeCheck says whether both servers' GET /posts bodies are the same.
type shapeCheck struct {
	identical      bool
	palisadeBytes  int
	referenceBytes int
}

// compareFeeds checks that the reference serves what Palisade serves, so
// the comparison is of like with like.
func compareFeeds(ctx context.Context, pal, bare *server) (shapeCheck, error) {
	var c shapeCheck
	ps, pb, err := get(ctx, pal.base+"/posts")
	if err != nil || ps != http.StatusOK {
		return c, fmt.Errorf("palisade GET /posts: status %d, %v", ps, err)
	}
	bs, bb, err := get(ctx, bare.base+"/posts")
	if err != nil || bs != http.StatusOK {
		return c, fmt.Errorf("reference GET /posts: status %d, %v", bs, err)
	}
	c.palisadeBytes, c.referenceBytes, c.identical = len(pb), len(bb), bytes.Equal(pb, bb)
	var posts []map[string]any
	if err := json.Unmarshal(pb, &posts); err != nil || len(posts) != 20 {
		return c, fmt.Errorf("palisade GET /posts is not an array of 20 posts (%d): %v", len(posts), err)
	}
	if !c.identical {
		logf("warning: GET /posts bodies differ between Palisade (%d bytes) and the reference (%d bytes)", len(pb), len(bb))
	}
	return c, nil
}

// login signs the bench user in and returns the bearer token.
func login(ctx context.Context, pal *server) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": benchUsername, "password": benchPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pal.base+"/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := setupClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST /auth/login: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		Token string `json:"token"`
	}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /auth/login: status %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Token == "" {
		return "", errors.New("POST /auth/login: no token in the answer")
	}
	return out.Token, nil
}
