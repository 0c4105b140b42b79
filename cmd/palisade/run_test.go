package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
	"github.com/palisade-blog/palisade/internal/testcert"
)

// lockedBuffer collects output written by the server's goroutines.
type lockedBuffer = apptest.LogBuffer

// envOf is m in os.Environ's form, for run.
func envOf(m map[string]string) []string {
	var environ []string
	for k, v := range m {
		environ = append(environ, k+"="+v)
	}
	return environ
}

// startServe runs `palisade serve` in-process and waits until it answers.
// stopServe stops a server from startServe, failing the test if it did not
// stop cleanly.
func stopServe(t *testing.T, stop func() error) {
	t.Helper()
	if err := stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
}

func startServe(t *testing.T, addr string, env map[string]string) (base string, stop func() error, logs *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--base-url", "http://" + addr}, envOf(env), strings.NewReader(""), io.Discard, logs)
	}()
	base = "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() error { cancel(); return <-done }, logs
}

func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_LOG_FORMAT": "json", "PALISADE_REGISTRATION": "open"}
	addr := apptest.FreeAddr(t)
	base, stop, logs := startServe(t, addr, env)

	api := apptest.NewClient(t, base)
	api.Register(t, "alice")
	token := api.Login(t, "alice")
	api.Post(t, "/posts", token, `{"title":"Hello","content":"From the real binary"}`).Want(t, http.StatusCreated)
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	if !strings.Contains(logs.String(), "palisade stopped") {
		t.Fatalf("no shutdown line:\n%s", logs)
	}

	t.Run("RestartKeepsUsersSignedIn", func(t *testing.T) {
		base, stop, _ := startServe(t, addr, env) // same origin: the token's issuer
		defer stopServe(t, stop)
		apptest.NewClient(t, base).Get(t, "/users/me", token).Want(t, http.StatusOK)
	})
	t.Run("DataDirPrivate", func(t *testing.T) {
		for _, name := range []string{"jwt.secret", "session.secret", "2fa.key"} {
			info, err := os.Stat(filepath.Join(dir, name))
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v %v", name, err, info.Mode())
			}
		}
	})
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	// A request that is being read when shutdown starts still gets its
	// answer: Shutdown waits for active connections.
	base, stop, _ := startServe(t, apptest.FreeAddr(t), map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_REGISTRATION": "open"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	body := `{"username":"alice","password":"correct horse battery staple"}`
	if _, err := fmt.Fprintf(conn, "POST /auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // headers are in; the body is not
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight request answered %d", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func TestProductionRefusesToStartWithoutSecrets(t *testing.T) {
	strong := apptest.NewSecret()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"NoSecrets", map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example"}, "PALISADE_JWT_SECRET"},
		{"ShortJWTSecret", map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example", "PALISADE_JWT_SECRET": "tooshort", "PALISADE_SESSION_SECRET": strong}, "PALISADE_JWT_SECRET"},
		{"NoSessionSecret", map[string]string{"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example", "PALISADE_JWT_SECRET": strong}, "PALISADE_SESSION_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["PALISADE_DATA_DIR"] = t.TempDir()
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"serve", "--addr", apptest.FreeAddr(t)}, envOf(tt.env), nil, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "tooshort") {
				t.Fatal("error shows the secret")
			}
			if _, statErr := os.Stat(filepath.Join(tt.env["PALISADE_DATA_DIR"], "jwt.secret")); statErr == nil {
				t.Fatal("production generated a secret instead of refusing")
			}
		})
	}
}

func TestBadConfigStopsStartup(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, envOf(map[string]string{"PALISADE_RATE_LIMIT": "many"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PALISADE_RATE_LIMIT") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	// However many migrations there are, a fresh database gets them all.
	if !regexp.MustCompile(`^applied [1-9][0-9]* migration`).MatchString(out.String()) {
		t.Fatalf("migrate said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, envOf(nil), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "applied 0 migration") {
		t.Fatalf("second migrate said %q (%v)", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, envOf(nil), nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "palisade ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), nil, io.Discard, io.Discard); exitCode(err) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	user := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(append([]string{"user"}, args...), "--data-dir", dir), envOf(nil), strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	if out, err := user("correct horse battery staple\n", "create", "root_admin", "--admin"); err != nil || !strings.Contains(out, "created admin root_admin") {
		t.Fatalf("create admin: %q %v", out, err)
	}
	if _, err := user("password\n", "create", "weak"); err == nil {
		t.Fatal("weak password accepted from the command line")
	}
	if out, err := user("another good passphrase\n", "create", "bob"); err != nil || !strings.Contains(out, "created author bob") {
		t.Fatalf("create: %q %v", out, err)
	}
	if out, err := user("", "promote", "bob"); err != nil || !strings.Contains(out, "promoted bob") {
		t.Fatalf("promote: %q %v", out, err)
	}
	if out, err := user("", "disable", "BOB"); err != nil || !strings.Contains(out, "disabled bob") {
		t.Fatalf("disable: %q %v", out, err)
	}
	if _, err := user("", "disable", "nobody"); err == nil {
		t.Fatal("disabling an unknown user succeeded")
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"user", "--help"}, {"serve", "--help"}, {"migrate", "--help"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, envOf(nil), nil, &out, &errOut); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out.Len()+errOut.Len() == 0 {
			t.Fatalf("%v printed nothing", args)
		}
	}
}

func TestDatabaseFilePrivate(t *testing.T) {
	dir := t.TempDir()
	if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, envOf(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "palisade.db"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("palisade.db: %v, mode %v", err, info.Mode().Perm())
	}
}

// TestServeOnPostgresAndRedis runs the real program in its scale-out shape.
func TestServeOnPostgresAndRedis(t *testing.T) {
	redisURL := os.Getenv("PALISADE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("scale-out tests skipped: PALISADE_TEST_REDIS_URL is not set")
	}
	env := map[string]string{
		"PALISADE_DATA_DIR":     t.TempDir(),
		"PALISADE_DATABASE_URL": pgtest.Schema(t),
		"PALISADE_REDIS_URL":    redisURL,
		"PALISADE_REDIS_PREFIX": "palisade-test-" + strings.ReplaceAll(t.Name(), "/", "-") + fmt.Sprint(time.Now().UnixNano()) + ":",
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, envOf(env), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "PostgreSQL") {
		t.Fatalf("migrate on PostgreSQL: %q %v", out.String(), err)
	}
	base, stop, _ := startServe(t, apptest.FreeAddr(t), env)
	defer stopServe(t, stop)
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"redis":"up"`) || !strings.Contains(string(body), `"database":"up"`) {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
}

// tlsTestPair writes a self-signed ECDSA P-256 certificate for 127.0.0.1
// and localhost, and its key, into dir; it returns the files and a pool
// that trusts the certificate.
func tlsTestPair(t *testing.T, dir string, serial int64) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM := testcert.Pair(t, serial)
	certFile, keyFile = filepath.Join(dir, fmt.Sprintf("cert%d.pem", serial)), filepath.Join(dir, fmt.Sprintf("key%d.pem", serial))
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, roots
}

// TestServeHTTPS runs `palisade serve` as in production with its own TLS
// and the plain-HTTP redirect listener.
func TestServeHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, roots := tlsTestPair(t, dir, 1)
	addr, redirectAddr := apptest.FreeAddr(t), apptest.FreeAddr(t)
	env := map[string]string{
		"PALISADE_ENV":                "production",
		"PALISADE_DATA_DIR":           dir,
		"PALISADE_JWT_SECRET":         apptest.NewSecret(),
		"PALISADE_SESSION_SECRET":     apptest.NewSecret(),
		"PALISADE_TLS_CERT":           certFile,
		"PALISADE_TLS_KEY":            keyFile,
		"PALISADE_HTTP_REDIRECT_ADDR": redirectAddr,
		"PALISADE_LOG_FORMAT":         "json",
	}
	base := "https://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--base-url", base}, envOf(env), nil, io.Discard, logs)
	}()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if resp, err = client.Get(base + "/healthz"); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTPS server did not start: %v\n%s", err, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz over HTTPS: %d %s", resp.StatusCode, body)
	}
	if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Fatalf("/healthz over %s, TLS %+v; want HTTP/2 over TLS 1.3", resp.Proto, resp.TLS)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Fatalf("no HSTS in production over HTTPS: %q", got)
	}

	// Plain HTTP on the HTTPS port is not served.
	if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
		_ = r.Body.Close()
		if r.StatusCode < 400 {
			t.Fatalf("plain HTTP on the HTTPS port answered %d", r.StatusCode)
		}
	}

	// The redirect listener: 308 to the configured origin, whatever Host says.
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, "http://"+redirectAddr+"/posts?x=1", strings.NewReader("{}"))
		req.Host = "evil.example"
		r, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if r.StatusCode != http.StatusPermanentRedirect || r.Header.Get("Location") != base+"/posts?x=1" || len(b) != 0 {
			t.Fatalf("%s redirect: %d Location %q body %q", method, r.StatusCode, r.Header.Get("Location"), b)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Strict-Transport-Security") != "" {
			t.Fatalf("%s redirect headers: %v", method, r.Header)
		}
	}
	// Following it ends on the HTTPS server.
	follow := &http.Client{Timeout: 5 * time.Second, Transport: client.Transport}
	r, err := follow.Get("http://" + redirectAddr + "/healthz")
	if err != nil || r.StatusCode != http.StatusOK || r.Request.URL.Scheme != "https" {
		t.Fatalf("following the redirect: %v %v", r, err)
	}
	_ = r.Body.Close()

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, logs)
	}
	for _, line := range []string{"palisade listening", "redirecting plain HTTP to HTTPS", "palisade stopped"} {
		if !strings.Contains(logs.String(), line) {
			t.Fatalf("no %q in the log:\n%s", line, logs)
		}
	}
	for _, a := range []string{addr, redirectAddr} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			_ = c.Close()
			t.Fatalf("%s still open after shutdown", a)
		}
	}
}

func TestBadTLSPairStopsStartup(t *testing.T) {
	dir := t.TempDir()
	cert1, _, _ := tlsTestPair(t, dir, 1)
	_, key2, _ := tlsTestPair(t, dir, 2)
	for name, files := range map[string][2]string{
		"Missing":     {filepath.Join(dir, "nope.pem"), key2},
		"KeyMismatch": {cert1, key2},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_TLS_CERT": files[0], "PALISADE_TLS_KEY": files[1]}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve", "--addr", apptest.FreeAddr(t)}, envOf(env), nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "PALISADE_TLS_CERT") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming PALISADE_TLS_CERT", err)
			}
		})
	}
}
