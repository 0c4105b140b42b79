package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/testcert"
)

// testCert makes a self-signed certificate and key (PEM) with serial.
func testCert(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	return testcert.Pair(t, serial)
}

// certFiles writes a pair into dir and returns the file names.
func certFiles(t *testing.T, dir string, certPEM, keyPEM []byte) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// rootsOf trusts the self-signed certificates given.
func rootsOf(t *testing.T, certs ...[]byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, c := range certs {
		if !pool.AppendCertsFromPEM(c) {
			t.Fatal("bad test certificate")
		}
	}
	return pool
}

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tlsServer serves /healthz over TLS from the files in dir, reloading them
// every interval, until the test ends.
type tlsServer struct {
	addr  string
	certs *CertReloader
	logs  *syncBuffer
}

func startTLS(t *testing.T, certFile, keyFile string, interval time.Duration) *tlsServer {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	certs, err := NewCertReloader(certFile, keyFile, interval, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeAll(ctx, Listener{Server: NewTLS(mux, log, certs.GetCertificate), Listener: ln, TLS: true})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &tlsServer{addr: ln.Addr().String(), certs: certs, logs: logs}
}

// handshake connects with cfg (RootCAs and ServerName filled in if unset)
// and returns the connection state, or the handshake error.
func (s *tlsServer) handshake(t *testing.T, cfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", s.addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState(), nil
}

func newTLSFixture(t *testing.T, interval time.Duration) (*tlsServer, *x509.CertPool, string) {
	t.Helper()
	dir := t.TempDir()
	c, k := testCert(t, 1)
	certFile, keyFile := certFiles(t, dir, c, k)
	return startTLS(t, certFile, keyFile, interval), rootsOf(t, c), dir
}

func TestTLSHealthzOverHTTP2(t *testing.T) {
	srv, roots, _ := newTLSFixture(t, time.Second)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	for _, host := range []string{srv.addr, strings.Replace(srv.addr, "127.0.0.1", "localhost", 1)} {
		resp, err := client.Get("https://" + host + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("%s: %d %q", host, resp.StatusCode, body)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("%s: served over %s, want HTTP/2", host, resp.Proto)
		}
		if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
			t.Fatalf("%s: a modern client did not get TLS 1.3: %+v", host, resp.TLS)
		}
	}

	// A client that speaks only HTTP/1.1 is served too.
	h1 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer h1.CloseIdleConnections()
	resp, err := h1.Get("https://" + srv.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 1 {
		t.Fatalf("HTTP/1.1 client: %d %s", resp.StatusCode, resp.Proto)
	}
}

func TestTLSProtocolAndCipherPolicy(t *testing.T) {
	srv, roots, _ := newTLSFixture(t, time.Second)
	tests := []struct {
		name    string
		cfg     *tls.Config
		ok      bool
		version uint16
	}{
		{"TLS1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false, 0},
		{"TLS1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false, 0},
		{"TLS1.2_CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		}}, false, 0},
		{"TLS1.2_RSA_key_exchange", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		}}, false, 0},
		{"TLS1.2_P384_only", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP384}}, false, 0},
		{"TLS1.2_ECDHE_GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true, tls.VersionTLS12},
		{"TLS1.2_ECDHE_AES256_GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}, true, tls.VersionTLS12},
		{"TLS1.2_ECDHE_ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true, tls.VersionTLS12},
		{"TLS1.2_X25519", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.X25519}}, true, tls.VersionTLS12},
		{"TLS1.2_P256", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP256}}, true, tls.VersionTLS12},
		{"TLS1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true, tls.VersionTLS13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg.Clone()
			cfg.RootCAs, cfg.ServerName = roots, "localhost"
			state, err := srv.handshake(t, cfg)
			if !tt.ok {
				if err == nil {
					t.Fatalf("handshake succeeded with %s / %s; the server must refuse it",
						tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
				}
				// Refused by the server, not failed for another reason.
				if !strings.Contains(err.Error(), "remote error") && !strings.Contains(err.Error(), "protocol version") {
					t.Fatalf("handshake failed, but not by the server's refusal: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if state.Version != tt.version {
				t.Fatalf("negotiated %s, want %s", tls.VersionName(state.Version), tls.VersionName(tt.version))
			}
		})
	}

	// Refused handshakes are scanners' daily bread: debug, not warnings.
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(srv.logs.String(), `level=DEBUG msg="http: TLS handshake error`); {
		if time.Now().After(deadline) {
			t.Fatalf("refused handshakes not logged at debug level:\n%s", srv.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(srv.logs.String(), "level=WARN") {
		t.Fatalf("refused handshakes logged as warnings:\n%s", srv.logs)
	}
}

// serialSeen is the serial number of the certificate a new connection gets.
func (s *tlsServer) serialSeen(t *testing.T, roots *x509.CertPool) (string, error) {
	t.Helper()
	state, err := s.handshake(t, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		return "", err
	}
	return state.PeerCertificates[0].SerialNumber.String(), nil
}

// reloadLimit is how long a test waits for the reloader to take up new
// files: far beyond its 100 ms interval, so only a reload that never
// happens fails, not one a busy machine delays.
const reloadLimit = 15 * time.Second

// waitForSerial polls with new connections until one sees the serial, and
// fails if none does within limit.
func (s *tlsServer) waitForSerial(t *testing.T, roots *x509.CertPool, want string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got, err := s.serialSeen(t, roots)
		if err != nil {
			t.Fatalf("handshake while waiting for serial %s: %v", want, err)
		}
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("still serial %s after %v, want %s\n%s", got, limit, want, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCertificateReload(t *testing.T) {
	const interval = 100 * time.Millisecond
	srv, _, dir := newTLSFixture(t, interval)
	c1, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	c2, k2 := testCert(t, 2)
	c3, k3 := testCert(t, 3)
	roots := rootsOf(t, c1, c2, c3)

	if got, err := srv.serialSeen(t, roots); err != nil || got != "1" {
		t.Fatalf("first certificate: serial %q, %v", got, err)
	}

	// Rewritten in place, as many renewal scripts do.
	certFiles(t, dir, c2, k2)
	took := srv.waitForSerial(t, roots, "2", reloadLimit)
	// How soon is logged, not asserted: on a busy machine the reloader's
	// ticks are late, and the limit above only proves the reload happens.
	t.Logf("new certificate served %v after the files changed (interval %v)", took, interval)
	if !strings.Contains(srv.logs.String(), "TLS certificate reloaded") {
		t.Errorf("reload not logged:\n%s", srv.logs)
	}

	t.Run("BrokenReplacementKeepsOldCertificate", func(t *testing.T) {
		for name, pair := range map[string][2][]byte{
			"Garbage":     {[]byte("-----BEGIN CERTIFICATE-----\nnot a certificate\n"), k3},
			"KeyMismatch": {c3, k2},
			"Empty":       {nil, nil},
		} {
			certFiles(t, dir, pair[0], pair[1])
			time.Sleep(3 * interval)
			for range 3 {
				if got, err := srv.serialSeen(t, roots); err != nil || got != "2" {
					t.Fatalf("%s: after a bad replacement, serial %q, %v; want the old certificate (2)", name, got, err)
				}
			}
		}
		for deadline := time.Now().Add(reloadLimit); !strings.Contains(srv.logs.String(), "TLS certificate not reloaded"); {
			if time.Now().After(deadline) {
				t.Fatalf("failed reload not logged as a warning:\n%s", srv.logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A good pair after the bad ones is taken up.
		certFiles(t, dir, c3, k3)
		srv.waitForSerial(t, roots, "3", reloadLimit)
	})

	t.Run("SwappedByRename", func(t *testing.T) {
		// As with symlinked or renamed files (certbot, Kubernetes secrets).
		sub := t.TempDir()
		c4, k4 := testCert(t, 4)
		newCert, newKey := certFiles(t, sub, c4, k4)
		if err := os.Rename(newKey, filepath.Join(dir, "key.pem")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(newCert, filepath.Join(dir, "cert.pem")); err != nil {
			t.Fatal(err)
		}
		srv.waitForSerial(t, rootsOf(t, c3, c4), "4", reloadLimit)
	})
}

func TestCertReloaderChecksAtMostOncePerInterval(t *testing.T) {
	dir := t.TempDir()
	c1, k1 := testCert(t, 1)
	certFile, keyFile := certFiles(t, dir, c1, k1)
	r, err := NewCertReloader(certFile, keyFile, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.now = func() time.Time { return now }
	c2, k2 := testCert(t, 2)
	certFiles(t, dir, c2, k2)
	cert, _ := r.GetCertificate(nil)
	if cert.Leaf.SerialNumber.Int64() != 1 {
		t.Fatal("files were looked at before the interval passed")
	}
	now = now.Add(time.Hour)
	cert, _ = r.GetCertificate(nil)
	if cert.Leaf.SerialNumber.Int64() != 2 {
		t.Fatal("files were not reloaded after the interval")
	}
}

func TestBadCertificateStopsStart(t *testing.T) {
	dir := t.TempDir()
	c1, _ := testCert(t, 1)
	_, k2 := testCert(t, 2)
	missing := filepath.Join(dir, "missing.pem")
	certFile, keyFile := certFiles(t, dir, c1, k2)
	for name, files := range map[string][2]string{
		"Missing":     {missing, keyFile},
		"KeyMismatch": {certFile, keyFile},
		"NotPEM":      {keyFile, keyFile},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewCertReloader(files[0], files[1], 0, slog.New(slog.DiscardHandler))
			if err == nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %q, want one line", err)
			}
		})
	}
}

func TestRedirectServerTimeouts(t *testing.T) {
	base, _ := url.Parse("https://blog.example")
	srv, app := NewRedirect(base, slog.New(slog.DiscardHandler)), New(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout != app.ReadHeaderTimeout || srv.ReadTimeout != app.ReadTimeout || srv.WriteTimeout != app.WriteTimeout ||
		srv.IdleTimeout != app.IdleTimeout || srv.MaxHeaderBytes != app.MaxHeaderBytes {
		t.Fatalf("redirect server limits differ from the application's: %+v", srv)
	}
}

func TestServeAllStopsTogether(t *testing.T) {
	// When one listener fails, the others shut down too and the error is
	// returned: never half a server.
	ln1, _ := net.Listen("tcp", "127.0.0.1:0")
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	log := slog.New(slog.DiscardHandler)
	done := make(chan error, 1)
	go func() {
		done <- ServeAll(context.Background(),
			Listener{Server: New(http.NotFoundHandler(), log), Listener: ln1},
			Listener{Server: New(http.NotFoundHandler(), log), Listener: ln2})
	}()
	time.Sleep(50 * time.Millisecond)
	_ = ln2.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a failed listener was not reported")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other server kept running")
	}
	if _, err := net.Dial("tcp", ln1.Addr().String()); err == nil {
		t.Fatal("the first listener is still open")
	}
}

// rawRequest sends req as is on a new connection and reads the response.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, body
}

func TestRedirectListener(t *testing.T) {
	base, _ := url.Parse("https://blog.example")
	log := slog.New(slog.DiscardHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeAll(ctx, Listener{Server: NewRedirect(base, log), Listener: ln}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	addr := ln.Addr().String()
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	do := func(method, path string, body io.Reader) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+addr+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example" // must not leak into Location
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp, b
	}
	check := func(t *testing.T, resp *http.Response, body []byte, want string) {
		t.Helper()
		if resp.StatusCode != http.StatusPermanentRedirect {
			t.Fatalf("status %d, want 308", resp.StatusCode)
		}
		if got := resp.Header.Get("Location"); got != want {
			t.Fatalf("Location %q, want %q", got, want)
		}
		if len(body) != 0 {
			t.Fatalf("body %q, want none", body)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("security headers missing: %v", resp.Header)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Fatal("HSTS sent over plain HTTP")
		}
	}

	for _, tt := range []struct{ method, path, want string }{
		{http.MethodGet, "/posts?x=1", "https://blog.example/posts?x=1"},
		{http.MethodGet, "/", "https://blog.example/"},
		{http.MethodGet, "/healthz", "https://blog.example/healthz"},
		{http.MethodGet, "/api/users/me", "https://blog.example/api/users/me"},
		{http.MethodGet, "/a%2Fb/c%20d?q=%3Cx%3E&r", "https://blog.example/a%2Fb/c%20d?q=%3Cx%3E&r"},
		{http.MethodGet, "//evil.example/x", "https://blog.example//evil.example/x"},
		{http.MethodHead, "/posts", "https://blog.example/posts"},
		{http.MethodDelete, "/posts/1", "https://blog.example/posts/1"},
	} {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			resp, body := do(tt.method, tt.path, nil)
			check(t, resp, body, tt.want)
		})
	}
	t.Run("POST", func(t *testing.T) {
		resp, body := do(http.MethodPost, "/auth/login?next=1", strings.NewReader(`{"username":"a","password":"b"}`))
		check(t, resp, body, "https://blog.example/auth/login?next=1")
	})
	t.Run("AbsoluteFormRequestTarget", func(t *testing.T) {
		resp, body := rawRequest(t, addr, "GET http://evil.example/x?y=2 HTTP/1.1\r\nHost: evil.example\r\n\r\n")
		check(t, resp, body, "https://blog.example/x?y=2")
	})
	t.Run("AsteriskForm", func(t *testing.T) {
		resp, body := rawRequest(t, addr, "OPTIONS * HTTP/1.1\r\nHost: evil.example\r\n\r\n")
		check(t, resp, body, "https://blog.example/")
	})
	t.Run("PortInBaseURL", func(t *testing.T) {
		b, _ := url.Parse("https://blog.example:8443")
		rec := httptestRecorder(RedirectHandler(b), "/p?q=1")
		if got := rec.Header().Get("Location"); got != "https://blog.example:8443/p?q=1" {
			t.Fatalf("Location %q", got)
		}
	})
	t.Run("HTTPBaseURLStillRedirectsToHTTPS", func(t *testing.T) {
		b, _ := url.Parse("http://127.0.0.1:3000")
		rec := httptestRecorder(RedirectHandler(b), "/p")
		if got := rec.Header().Get("Location"); got != "https://127.0.0.1:3000/p" {
			t.Fatalf("Location %q", got)
		}
	})
}

func httptestRecorder(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://evil.example"+target, nil))
	return rec
}

// TestCertExpiryIsSaidPlainly: an expired certificate is logged at ERROR
// with the word EXPIRED, one about to expire at WARN with the days left,
// a fresh one not at all.
func TestCertExpiryIsSaidPlainly(t *testing.T) {
	for _, c := range []struct {
		name     string
		notAfter time.Time
		level    string // "" for no line
		words    string
		expired  bool
	}{
		{"Expired", time.Now().Add(-48 * time.Hour), "ERROR", "TLS certificate EXPIRED", true},
		{"ExpiresSoon", time.Now().Add(3 * 24 * time.Hour), "WARN", "TLS certificate expires in 3.0 days", false},
		{"Fresh", time.Now().Add(60 * 24 * time.Hour), "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			certPEM, keyPEM := testcert.PairUntil(t, 1, c.notAfter)
			certFile, keyFile := certFiles(t, t.TempDir(), certPEM, keyPEM)
			var logs bytes.Buffer
			r, err := NewCertReloader(certFile, keyFile, 0, slog.New(slog.NewJSONHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Expired() != c.expired {
				t.Errorf("Expired() = %v", r.Expired())
			}
			if c.level == "" {
				if logs.Len() != 0 {
					t.Fatalf("logged %s", logs.String())
				}
				return
			}
			if !strings.Contains(logs.String(), `"level":"`+c.level+`"`) || !strings.Contains(logs.String(), c.words) {
				t.Fatalf("log %s, want %s at %s", logs.String(), c.words, c.level)
			}
		})
	}
}
