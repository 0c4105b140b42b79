package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/testcert"
)

// TestMain lets a test run the real main in a child process (the test
// binary itself, with PALISADE_TEST_MAIN=1), to send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("PALISADE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestUsageMistakes: a command-line mistake exits 2 with the usage printed
// once, to standard error, and nothing on standard output.
func TestUsageMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"}, {"--nope"}, {"serve", "--nope"}, {"serve", "stray"}, {"migrate", "--addr"},
		{"user"}, {"user", "create"}, {"user", "create", "bob", "--nope"}, {"user", "rename", "bob"},
	} {
		wantUsageMistake(t, args)
	}
}

// wantUsageMistake runs the program with args, a command-line mistake,
// and checks that it exits 2 with the usage printed once, to standard
// error, and nothing on standard output.
func wantUsageMistake(t *testing.T, args []string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, envOf(map[string]string{"PALISADE_DATA_DIR": t.TempDir()}), strings.NewReader(""), &out, &errOut)
	if exitCode(err) != 2 {
		t.Errorf("%v: exit %d (%v), want 2", args, exitCode(err), err)
	}
	if n := strings.Count(errOut.String(), "Usage"); n != 1 || out.Len() != 0 {
		t.Errorf("%v: usage printed %d times to stderr, %d bytes to stdout:\n%s", args, n, out.Len(), errOut.String())
	}
}

// TestHelpGoesToStdout: asking for help is no mistake: standard output,
// exit 0, nothing on standard error.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"user", "--help"}, {"serve", "--help"}, {"migrate", "-h"}, {"user", "create", "bob", "--help"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, envOf(nil), nil, &out, &errOut)
		if err != nil || exitCode(err) == 2 {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage") || errOut.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q", args, out.String(), errOut.String())
		}
	}
}

// TestMigrateAndUserNeedNoSecrets: neither signs anything, so production
// runs them without PALISADE_JWT_SECRET and PALISADE_SESSION_SECRET.
func TestMigrateAndUserNeedNoSecrets(t *testing.T) {
	env := envOf(map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example", "PALISADE_DATA_DIR": t.TempDir()})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, env, nil, &out, io.Discard); err != nil {
		t.Fatalf("migrate in production: %v", err)
	}
	if err := run(context.Background(), []string{"user", "create", "root_admin", "--admin"}, env, strings.NewReader(apptest.Password+"\n"), &out, io.Discard); err != nil {
		t.Fatalf("user create in production: %v", err)
	}
	if !strings.Contains(out.String(), "created admin root_admin") {
		t.Fatalf("output %q", out.String())
	}
	// serve still refuses.
	if err := run(context.Background(), []string{"serve", "--addr", apptest.FreeAddr(t)}, env, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "PALISADE_JWT_SECRET") {
		t.Fatalf("serve without secrets in production: %v", err)
	}
}

// TestStartupReportsUnknownVariablesAndSummary: misspelled settings in the
// environment and in .env are named with the likely intended one, test
// variables are not, and one summary line says what the server runs with,
// with no secret or password in the log.
func TestStartupReportsUnknownVariablesAndSummary(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(".env", []byte("PALISADE_LOGIN_RATELIMIT=3/1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jwt, session := apptest.NewSecret(), apptest.NewSecret()
	env := map[string]string{
		"PALISADE_DATA_DIR":        filepath.Join(dir, "data"),
		"PALISADE_LOG_FORMAT":      "json",
		"PALISADE_RATELIMIT":       "1/1m",
		"PALISADE_ADRR":            "0.0.0.0:80",
		"PALISADE_TEST_EXTRA":      "1",
		"PALISADE_JWT_SECRET":      jwt,
		"PALISADE_SESSION_SECRET":  session,
		"PALISADE_TRUSTED_PROXIES": "10.0.0.0/8",
	}
	_, stop, logs := startServe(t, apptest.FreeAddr(t), env)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	l := logs.String()
	for _, want := range []string{
		"unknown variable PALISADE_RATELIMIT in the environment is ignored (did you mean PALISADE_RATE_LIMIT?)",
		"unknown variable PALISADE_ADRR in the environment is ignored (did you mean PALISADE_ADDR?)",
		"unknown variable PALISADE_LOGIN_RATELIMIT in the .env is ignored (did you mean PALISADE_LOGIN_RATE_LIMIT?)",
		`"msg":"configuration","env":"development"`,
		`"database":"sqlite ` + filepath.Join(dir, "data"),
		`"redis":"none"`, `"rateLimit":"100/15m0s"`, `"dotenv":".env"`,
		`"jwtKeyFrom":"environment"`, `"csrfKeyFrom":"environment"`,
		`"twoFactorKeys":"1 key, generated in ` + filepath.Join(dir, "data", "2fa.key"),
	} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	for _, leak := range []string{"PALISADE_TEST_EXTRA", jwt, session} {
		if strings.Contains(l, leak) {
			t.Errorf("log shows %q", leak)
		}
	}
	if t.Failed() {
		t.Log(l)
	}

	t.Run("GeneratedSecrets", func(t *testing.T) {
		_, stop, logs := startServe(t, apptest.FreeAddr(t), map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_LOG_FORMAT": "json"})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), `"jwtKeyFrom":"generated in `) {
			t.Fatalf("summary does not say the secrets were generated:\n%s", logs)
		}
	})
}

// TestSecondSignalStopsNow runs the real binary: the first SIGINT starts
// a graceful stop that says how many requests it waits for and how to stop
// now; a second SIGINT ends the process at once, with status 130, though a
// request is still in flight.
func TestSecondSignalStopsNow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	addr := apptest.FreeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--addr", addr, "--base-url", "http://"+addr)
	cmd.Env = append(os.Environ(), "PALISADE_TEST_MAIN=1", "PALISADE_DATA_DIR="+t.TempDir(), "PALISADE_LOG_FORMAT=json")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // already gone unless the test failed
	})
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s:\n%s", what, stderr)
			}
		}
	}
	waitFor("server", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err == nil
	})

	// A request whose body never comes keeps the server draining.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := fmt.Fprintf(conn, "POST /auth/register HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", addr); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the handler start reading

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitFor("draining line", func() bool { return strings.Contains(stderr.String(), "press Ctrl-C again to stop now") })
	if !strings.Contains(stderr.String(), "draining 1 request(s)") {
		t.Fatalf("the draining line does not count the request:\n%s", stderr)
	}
	select {
	case err := <-exited:
		t.Fatalf("exited before the second signal, with a request in flight: %v\n%s", err, stderr)
	default:
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 128+int(syscall.SIGINT) {
			t.Fatalf("exit: %v, want status 130\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second): // shutdown would wait 20s
		t.Fatalf("second Ctrl-C ignored:\n%s", stderr)
	}
}

// TestUserCreatePasswordFromPipe: from a pipe, the password is the first
// line, with no prompt (scripts pipe it in).
func TestUserCreatePasswordFromPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	if _, ok := terminalFD(r); ok {
		t.Fatal("a pipe taken for a terminal")
	}
	if _, err := io.WriteString(w, apptest.Password+"\nignored second line\n"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"user", "create", "piped", "--data-dir", t.TempDir()}, envOf(nil), r, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created author piped") || strings.Contains(errOut.String(), "Password") {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}

// TestUserCreatePasswordAtTerminal runs user create on a pseudo-terminal:
// it prompts, reads without echo (the typed password never comes back to
// the screen) and asks twice.
func TestUserCreatePasswordAtTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer func() { _ = ptmx.Close() }()
	if _, ok := terminalFD(tty); !ok {
		t.Fatal("a terminal not recognised")
	}
	screen := &lockedBuffer{}
	go func() { _, _ = io.Copy(screen, ptmx) }() // ends when ptmx closes

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		err := run(context.Background(), []string{"user", "create", "carol", "--data-dir", t.TempDir()}, envOf(nil), tty, &out, tty)
		done <- result{out.String(), err}
	}()
	waitScreen := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !strings.Contains(screen.String(), s); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q on the terminal: %q", s, screen)
			}
		}
	}
	const password = "terminal typed passphrase"
	waitScreen("Password for carol: ")
	if _, err := io.WriteString(ptmx, password+"\r"); err != nil {
		t.Fatal(err)
	}
	waitScreen("Repeat it: ")
	if _, err := io.WriteString(ptmx, password+"\r"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	_ = tty.Close()
	if r.err != nil || !strings.Contains(r.out, "created author carol") {
		t.Fatalf("create: %q %v", r.out, r.err)
	}
	if strings.Contains(screen.String(), "passphrase") {
		t.Fatalf("the password was echoed: %q", screen)
	}
}

// TestProductionRefusesExpiredCertificate: in production an expired
// certificate stops start-up with one line that says EXPIRED; development
// serves it (with an ERROR line).
func TestProductionRefusesExpiredCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := testcert.PairUntil(t, 7, time.Now().Add(-24*time.Hour))
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := apptest.FreeAddr(t)
	env := map[string]string{
		"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://" + addr, "PALISADE_DATA_DIR": dir,
		"PALISADE_JWT_SECRET": apptest.NewSecret(), "PALISADE_SESSION_SECRET": apptest.NewSecret(),
		"PALISADE_TLS_CERT": certFile, "PALISADE_TLS_KEY": keyFile, "PALISADE_LOG_FORMAT": "json",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logs := &lockedBuffer{}
	err := run(ctx, []string{"serve", "--addr", addr}, envOf(env), nil, io.Discard, logs)
	if err == nil || !strings.Contains(err.Error(), "PALISADE_TLS_CERT") || !strings.Contains(err.Error(), "EXPIRED") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line saying the certificate EXPIRED", err)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"TLS certificate EXPIRED`) {
		t.Fatalf("no ERROR line:\n%s", logs)
	}
}

// TestDrainLineBeforeStop: the line that says what the stop waits for
// comes before the shutdown, never after "palisade stopped".
func TestDrainLineBeforeStop(t *testing.T) {
	for range 5 {
		_, stop, logs := startServe(t, apptest.FreeAddr(t), map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_LOG_FORMAT": "json"})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		l := logs.String()
		drain, stopped := strings.Index(l, "draining 0 request(s)"), strings.Index(l, "palisade stopped")
		if drain < 0 || stopped < drain {
			t.Fatalf("draining line missing or after the stop:\n%s", l)
		}
	}
}
