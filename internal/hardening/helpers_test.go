package hardening_test

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/palisade-blog/palisade/internal/apptest"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// rawRequest is an HTTP/1.1 request written byte for byte: net/http's
// client would refuse, fix or re-encode most of what these tests send
// (raw NUL and 0xFF in the request line, conflicting Content-Length…).
type rawRequest struct {
	method string
	target string      // the request-target exactly as sent
	header [][2]string // in order; Host and Connection are added
	body   []byte
	// contentLength, when set, is sent instead of len(body) ("-" sends no
	// Content-Length at all).
	contentLength string
	// stream, when > 0, is a number of extra body bytes sent after body
	// ("a" repeated), for a declared length larger than what is sent.
	stream int
}

// rawResponse is what came back.
type rawResponse struct {
	status int
	header http.Header
	body   []byte // at most 1 MiB of it
}

func (r rawRequest) bytes(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", r.method, r.target, host)
	for _, h := range r.header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	switch r.contentLength {
	case "":
		if len(r.body) > 0 || r.method == "POST" || r.method == "PATCH" || r.method == "PUT" {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body)+r.stream)
		}
	case "-":
	default:
		fmt.Fprintf(&b, "Content-Length: %s\r\n", r.contentLength)
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// do sends r on a new connection to addr and reads the response. Every
// step shares one deadline: a server that neither answers nor closes
// within timeout is reported as an error (a hang).
func (r rawRequest) do(addr string, timeout time.Duration) (*rawResponse, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	// Write in the background: a server that answers early (413, 431)
	// stops reading, and a blocked write must not keep us from reading
	// its answer. Write errors (reset after the answer) are expected.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		if _, err := conn.Write(r.bytes(addr)); err != nil {
			return
		}
		if r.stream > 0 {
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			for left := r.stream; left > 0; left -= len(chunk) {
				if _, err := conn.Write(chunk[:min(len(chunk), left)]); err != nil {
					return
				}
			}
			// The declared length will never come: end the body. (Only
			// here: a half-close after a complete request tells net/http
			// the client has gone, which cancels the request's context.)
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}
	}()
	defer func() { _ = conn.Close(); <-wrote }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return &rawResponse{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// palisadeBinary builds cmd/palisade once per test run and returns its
// path. The binary is built without -race: the process-level tests are
// about the program, and the race detector would only slow it down.
var palisadeBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "palisade-hardening-*")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "palisade")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/palisade-blog/palisade/cmd/palisade")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// binDir is removed by TestMain once the tests are done.
var binDir string

func buildPalisade(t *testing.T) string {
	t.Helper()
	bin, err := palisadeBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// process is a running `palisade serve`.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	done   chan struct{}
	err    error // valid after done
}

// startPalisade runs the binary with env (and nothing else from this
// process's environment but PATH and HOME) in a scratch working directory
// (so no .env is read), and waits until /healthz answers or the process
// exits.
func startPalisade(t *testing.T, bin string, env map[string]string, args ...string) (*process, error) {
	t.Helper()
	addr := env["PALISADE_ADDR"]
	p := &process{addr: addr, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("palisade exited: %v\n%s", p.err, p.stderr.String())
		default:
		}
		if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill()
	return nil, fmt.Errorf("palisade did not answer on %s within 20s\n%s", addr, p.stderr.String())
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// runPalisade runs the binary to completion (for start-ups that must
// fail) and returns its standard error and its error.
func runPalisade(t *testing.T, bin string, env map[string]string, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	p := exec.Command(bin, args...)
	p.Dir = t.TempDir()
	p.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.Env = append(p.Env, k+"="+v)
	}
	var stderr syncBuffer
	p.Stderr = &stderr
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		return stderr.String(), err
	case <-time.After(timeout):
		_ = p.Process.Kill() // an error means it exited meanwhile; Wait below tells
		return stderr.String(), fmt.Errorf("still running after %v (then killed: %v)", timeout, <-done)
	}
}

// syncBuffer collects output written by the server's goroutines.
type syncBuffer = apptest.LogBuffer

// describe shows the request line and the start of the body, with
// invalid bytes visible.
func (r rawRequest) describe() string {
	s := "request: " + quote(r.method+" "+r.target)
	if len(r.body) > 0 || r.stream > 0 {
		s += "\nbody: " + quote(string(r.body))
		if r.stream > 0 {
			s += fmt.Sprintf(" then %d bytes streamed", r.stream)
		}
	}
	if r.contentLength != "" {
		s += "\nContent-Length: " + quote(r.contentLength)
	}
	return s
}

// quote shows a byte string with its invalid bytes visible.
func quote(s string) string {
	if len(s) > 120 {
		return strconv.Quote(s[:120]) + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}
