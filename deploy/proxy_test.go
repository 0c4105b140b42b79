package deploy

// The reverse-proxy recipes (nginx/palisade.conf, caddy/Caddyfile) run here
// for real: Debian's nginx or Caddy, as an unprivileged process, with the
// shipped file changed only where a test must (ports, names, paths, a
// throw-away certificate), in front of a real Palisade in production mode
// that trusts the proxy's address. The tests live beside the files they
// check, as the unit file's do, so that an edit to a recipe runs them.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/testcert"
)

// rateLimit is Palisade's limit in these tests: room for every check a
// client makes before the rate-limit test spends the rest.
const rateLimit = 40

// securityHeaders are the headers Palisade sets on every answer in
// production; a proxy that added any of them again would send it twice.
var securityHeaders = []string{
	"Content-Security-Policy", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy",
	"Origin-Agent-Cluster", "Referrer-Policy", "X-Content-Type-Options", "X-DNS-Prefetch-Control",
	"X-Download-Options", "X-Frame-Options", "X-Permitted-Cross-Domain-Policies", "X-XSS-Protection",
	"Strict-Transport-Security",
}

// nobody is the unprivileged user the proxies run as when the test runs
// as root (Debian's nobody and nogroup).
const nobody = 65534

// requireTool finds a proxy's binary, which CI installs; elsewhere its
// test is skipped with a line saying how to install it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; CI installs it (apt-get install %s)", name, name)
		}
		t.Skipf("%s is not installed (apt-get install %s): its recipe is not run", name, name)
	}
	return path
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(apptest.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// hasIPv6Loopback says whether [::1] can be listened on here; a recipe's
// IPv6 listen lines are dropped where it can't.
func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = ln.Close() // only the answer was wanted
	return true
}

// recipe reads a shipped file and makes the given replacements, failing
// if any original is missing: that means the recipe changed and the test
// must follow. Each pair is old, new.
func recipe(t *testing.T, path string, pairs ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("%s no longer contains %q; update this test", path, pairs[i])
		}
		text = strings.ReplaceAll(text, pairs[i], pairs[i+1])
	}
	return text
}

// runDir returns a directory for a proxy's configuration, certificate,
// logs and temporary files, writable by the user the proxy runs as.
func runDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		return dir
	}
	// t.TempDir's parent is private to root; nobody must reach the files.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes a file into a runDir, owned by the proxy's user.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
}

// writeCert writes a throw-away certificate for localhost into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := testcert.Pair(t, 1)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, certPEM)
	writeFile(t, keyFile, keyPEM)
	return certFile, keyFile
}

// startPalisade starts Palisade in production for the public origin
// https://localhost:httpsPort, trusting only the proxy's address.
func startPalisade(t *testing.T, httpsPort string) *apptest.Server {
	t.Helper()
	return apptest.Start(t, map[string]string{
		"PALISADE_ENV":             "production",
		"PALISADE_BASE_URL":        "https://localhost:" + httpsPort,
		"PALISADE_SESSION_SECRET":  apptest.NewSecret(),
		"PALISADE_TRUSTED_PROXIES": "127.0.0.1/32",
		"PALISADE_RATE_LIMIT":      strconv.Itoa(rateLimit) + "/15m",
	})
}

// proxyProcess is a started proxy; done is closed once it has exited,
// and err is then how it ended.
type proxyProcess struct {
	done chan struct{}
	err  error
}

// startProxy starts cmd as the unprivileged user, killed with the test
// binary if that dies first, and stopped when the test ends. Its output
// goes to logFile, which a failure prints.
func startProxy(t *testing.T, cmd *exec.Cmd, logFile string) *proxyProcess {
	t.Helper()
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close() }) // a log file; nothing to flush
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	proc := &proxyProcess{done: make(chan struct{})}
	go func() {
		proc.err = cmd.Wait()
		close(proc.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		select {
		case <-proc.done:
		case <-timer.C:
			_ = cmd.Process.Kill() // it ignored SIGTERM; the test is over either way
			<-proc.done
		}
	})
	return proc
}

// frontProxy is a running proxy under test, with the Palisade behind it.
type frontProxy struct {
	httpsPort, httpPort string
	roots               *x509.CertPool
	palisade            *apptest.Server
	logs                []string // the proxy's own log files, printed on failure
}

func (p *frontProxy) origin() string { return "https://localhost:" + p.httpsPort }

// dumpLogs prints the proxy's logs when the test has failed.
func (p *frontProxy) dumpLogs(t *testing.T) {
	t.Helper()
	if !t.Failed() {
		return
	}
	for _, f := range p.logs {
		b, err := os.ReadFile(f)
		if err == nil {
			t.Logf("%s:\n%s", filepath.Base(f), b)
		}
	}
}

// transport dials every address as the loopback address src (127.0.0.2
// and 127.0.0.3 are different clients to the proxy and to Palisade), to
// 127.0.0.1 whatever the URL's host, trusting the test's certificate and
// speaking HTTP/2 where the server offers it.
func (p *frontProxy) transport(t *testing.T, src string) *http.Transport {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
		},
		TLSClientConfig:   &tls.Config{RootCAs: p.roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// client is a visitor from src through the proxy's HTTPS port.
func (p *frontProxy) client(t *testing.T, src string) *apptest.Client {
	t.Helper()
	c := apptest.NewClient(t, p.origin())
	c.HTTP.Transport = p.transport(t, src)
	return c
}

// direct is a visitor from src that goes straight to Palisade, around the
// proxy.
func (p *frontProxy) direct(t *testing.T, src string) *apptest.Client {
	t.Helper()
	c := apptest.NewClient(t, p.palisade.URL)
	c.HTTP.Transport = p.transport(t, src)
	return c
}

// waitReady polls /healthz through the proxy until it answers 200, failing
// if the proxy exits first.
func (p *frontProxy) waitReady(t *testing.T, proc *proxyProcess) {
	t.Helper()
	c := &http.Client{Transport: p.transport(t, "127.0.0.1"), Timeout: 5 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-proc.done:
			t.Fatalf("the proxy exited before it was ready: %v", proc.err)
		default:
		}
		resp, err := c.Get(p.origin() + "/healthz")
		if err == nil {
			_ = resp.Body.Close() // only the status matters
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not answer /healthz with 200 in 20 s (last: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loggedClient returns the client address in Palisade's access-log line
// for the response's request ID. The line is written once the handler
// returns, which may be a moment after the client has the answer, so it
// is waited for.
func (p *frontProxy) loggedClient(t *testing.T, r *apptest.Response) string {
	t.Helper()
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("the answer has no X-Request-Id: it did not come from Palisade")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := bufio.NewScanner(strings.NewReader(p.palisade.Logs.String()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Msg, RequestID, Client string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" && line.RequestID == id {
				return line.Client
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line for request %s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkRecipe runs every promise of a recipe against a running proxy.
// The subtests share one Palisade and its rate limiter, so they run in
// order and the rate-limit test, which spends a client's allowance, last.
func checkRecipe(t *testing.T, p *frontProxy) {
	t.Cleanup(func() { p.dumpLogs(t) })
	alice, bob := p.client(t, "127.0.0.2"), p.client(t, "127.0.0.3")

	t.Run("HTTP2", func(t *testing.T) {
		resp, err := alice.HTTP.Get(p.origin() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // only the protocol matters
		if resp.ProtoMajor != 2 {
			t.Errorf("the proxy answered over %s, want HTTP/2", resp.Proto)
		}
	})

	t.Run("SecurityHeadersOnce", func(t *testing.T) {
		for _, path := range []string{"/", "/posts", "/login", "/no-such-page"} {
			r := alice.Page(t, path)
			for _, name := range securityHeaders {
				if got := r.Header.Values(name); len(got) != 1 {
					t.Errorf("GET %s: %s sent %d times (%q), want once", path, name, len(got), got)
				}
			}
			// Nor is any other header doubled, whether Palisade adds it
			// later or the proxy does.
			for name, values := range r.Header {
				if len(values) > 1 && name != "Set-Cookie" {
					t.Errorf("GET %s: %s sent %d times (%q)", path, name, len(values), values)
				}
			}
		}
	})

	t.Run("RealClientAddress", func(t *testing.T) {
		cases := []struct {
			name   string
			c      *apptest.Client
			header map[string]string
			want   string
		}{
			{"Alice", alice, nil, "127.0.0.2"},
			{"Bob", bob, nil, "127.0.0.3"},
			{"AliceForgesXForwardedFor", alice, map[string]string{"X-Forwarded-For": "203.0.113.9"}, "127.0.0.2"},
			{"AliceClaimsBobsAddress", alice, map[string]string{"X-Forwarded-For": "127.0.0.3"}, "127.0.0.2"},
			{"AliceClaimsTheProxysAddress", alice, map[string]string{"X-Forwarded-For": "203.0.113.9, 127.0.0.1"}, "127.0.0.2"},
			{"AliceForgesForwarded", alice, map[string]string{"Forwarded": "for=203.0.113.9"}, "127.0.0.2"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.c.Do(t, apptest.Request{Path: "/posts", Header: tc.header}).Want(t, http.StatusOK)
				if got := p.loggedClient(t, r); got != tc.want {
					t.Errorf("Palisade logged client %q, want %q", got, tc.want)
				}
			})
		}
	})

	t.Run("OtherHostRefused", func(t *testing.T) {
		// A DNS-rebinding page's requests carry its own name as Host; the
		// proxy refuses them itself or hands them on for Palisade's 421.
		r := alice.Do(t, apptest.Request{Path: "/posts", Header: map[string]string{"Host": "attacker.example:" + p.httpsPort}})
		if r.Header.Get("X-Request-Id") != "" && r.Status != http.StatusMisdirectedRequest {
			t.Errorf("Host attacker.example reached Palisade and got %d, want 421", r.Status)
		}
		if r.Status == http.StatusOK && len(r.Body) > 0 {
			t.Errorf("Host attacker.example was served: %.200s", r.Body)
		}
	})

	t.Run("DirectForgeryIgnored", func(t *testing.T) {
		// Around the proxy, the peer is an ordinary client: what it says
		// about itself in X-Forwarded-For is not read at all.
		mallory := p.direct(t, "127.0.0.5")
		r := mallory.Do(t, apptest.Request{Path: "/posts", Header: map[string]string{
			"X-Forwarded-For": "127.0.0.2", "X-Forwarded-Proto": "https",
		}}).Want(t, http.StatusOK)
		if got := p.loggedClient(t, r); got != "127.0.0.5" {
			t.Errorf("Palisade logged client %q for a direct request, want the peer 127.0.0.5", got)
		}
	})

	t.Run("HTTPS", func(t *testing.T) {
		carol := p.client(t, "127.0.0.4")
		carol.Register(t, "carol")
		// A page that needs a session sends the visitor to sign in, on
		// the public https origin, never on Palisade's own address.
		r := carol.Page(t, "/write").Want(t, http.StatusSeeOther)
		wantHTTPS(t, p, r)
		// Sign in without Sec-Fetch-Site, so that Palisade compares the
		// form's Origin with the Host the proxy passed on: both must be
		// the public origin, port included.
		form := url.Values{"username": {"carol"}, "password": {apptest.Password}, "_csrf": {carol.CSRFToken(t, "/login")}}
		r = carol.PostForm(t, "/login", form, map[string]string{"Sec-Fetch-Site": ""}).Want(t, http.StatusSeeOther)
		wantHTTPS(t, p, r)
		session := ""
		for _, sc := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(sc, "__Host-palisade_session=") {
				session = sc
			}
		}
		if session == "" || !strings.Contains(session, "; Secure") {
			t.Fatalf("sign-in set no Secure __Host- session cookie: %q", r.Header.Values("Set-Cookie"))
		}
		// The jar sends a Secure cookie back only over https.
		carol.Page(t, "/write").Want(t, http.StatusOK)
	})

	t.Run("PlainHTTPRedirects", func(t *testing.T) {
		c := &http.Client{
			Transport:     p.transport(t, "127.0.0.4"),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		resp, err := c.Get("http://localhost:" + p.httpPort + "/post/abc?x=1")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // only the status and Location matter
		want := p.origin() + "/post/abc?x=1"
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			t.Errorf("plain HTTP: %d to %q, want 308 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})

	t.Run("BodyLimit", func(t *testing.T) {
		dave := p.client(t, "127.0.0.6")
		under := url.Values{"username": {"dave"}, "password": {strings.Repeat("p", 3<<19)}} // 1.5 MiB
		r := dave.PostForm(t, "/login", under, nil)
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("a 1.5 MiB form got %d from the proxy itself; it must reach Palisade", r.Status)
		}
		over := url.Values{"username": {"dave"}, "password": {strings.Repeat("p", 2<<20)}} // over 2 MiB
		r = dave.PostForm(t, "/login", over, nil)
		if r.Status != http.StatusRequestEntityTooLarge || r.Header.Get("X-Request-Id") != "" {
			t.Errorf("a form over 2 MiB: %d (request ID %q), want the proxy's own 413", r.Status, r.Header.Get("X-Request-Id"))
		}
	})

	t.Run("RateLimitPerRealClient", func(t *testing.T) {
		limited := false
		for range rateLimit + 5 {
			if alice.Get(t, "/posts", "").Status == http.StatusTooManyRequests {
				limited = true
				break
			}
		}
		if !limited {
			t.Fatalf("alice made %d requests without meeting the limit of %d", rateLimit+5, rateLimit)
		}
		cases := []struct {
			name   string
			c      *apptest.Client
			header map[string]string
			want   int
		}{
			{"AliceStaysLimited", alice, nil, http.StatusTooManyRequests},
			{"AliceForgingAnotherAddressStaysLimited", alice, map[string]string{"X-Forwarded-For": "198.51.100.7"}, http.StatusTooManyRequests},
			{"AliceClaimingBobsAddressStaysLimited", alice, map[string]string{"X-Forwarded-For": "127.0.0.3"}, http.StatusTooManyRequests},
			{"BobIsServed", bob, nil, http.StatusOK},
			{"BobClaimingAlicesAddressIsServed", bob, map[string]string{"X-Forwarded-For": "127.0.0.2"}, http.StatusOK},
			{"AliceAroundTheProxyStaysLimited", p.direct(t, "127.0.0.2"), map[string]string{"X-Forwarded-For": "198.51.100.7"}, http.StatusTooManyRequests},
			{"OtherClientAroundTheProxyClaimingAliceIsServed", p.direct(t, "127.0.0.7"), map[string]string{"X-Forwarded-For": "127.0.0.2"}, http.StatusOK},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.c.Do(t, apptest.Request{Path: "/posts", Header: tc.header}).Want(t, tc.want)
			})
		}
	})
}

// wantHTTPS fails unless the redirect's Location, resolved as a browser
// would against the page it came from, is on the proxy's https origin.
func wantHTTPS(t *testing.T, p *frontProxy, r *apptest.Response) {
	t.Helper()
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(p.origin() + "/")
	if err != nil {
		t.Fatal(err)
	}
	if got := base.ResolveReference(loc); got.Scheme != "https" || got.Host != "localhost:"+p.httpsPort {
		t.Errorf("redirect to %s, want a page of %s", got, p.origin())
	}
}

// newFrontProxy picks the proxy's ports, starts Palisade behind them and
// writes the certificate.
func newFrontProxy(t *testing.T, dir string) (p *frontProxy, certFile, keyFile string) {
	t.Helper()
	p = &frontProxy{httpsPort: freePort(t), httpPort: freePort(t)}
	p.palisade = startPalisade(t, p.httpsPort)
	certFile, keyFile = writeCert(t, dir)
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	p.roots = x509.NewCertPool()
	if !p.roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("the test certificate does not parse")
	}
	return p, certFile, keyFile
}

// TestNginxRecipe runs nginx/palisade.conf in front of Palisade.
func TestNginxRecipe(t *testing.T) {
	bin := requireTool(t, "nginx")
	dir := runDir(t)
	p, certFile, keyFile := newFrontProxy(t, dir)
	upstream := strings.TrimPrefix(p.palisade.URL, "http://")
	ipv6HTTP, ipv6HTTPS := "", ""
	if hasIPv6Loopback() {
		ipv6HTTP, ipv6HTTPS = "listen [::1]:"+p.httpPort+";", "listen [::1]:"+p.httpsPort+" ssl http2;"
	}
	site := recipe(t, "nginx/palisade.conf",
		"server 127.0.0.1:3000;", "server "+upstream+";",
		"listen 80;", "listen 127.0.0.1:"+p.httpPort+";",
		"listen [::]:80;", ipv6HTTP,
		"listen 443 ssl http2;", "listen 127.0.0.1:"+p.httpsPort+" ssl http2;",
		"listen [::]:443 ssl http2;", ipv6HTTPS,
		"/etc/letsencrypt/live/blog.example.com/fullchain.pem", certFile,
		"/etc/letsencrypt/live/blog.example.com/privkey.pem", keyFile,
		"return 308 https://blog.example.com$request_uri;", "return 308 "+p.origin()+"$request_uri;",
		"server_name blog.example.com;", "server_name localhost;",
	)
	// The recipe is a site file that Debian's nginx.conf includes inside
	// http {}; this is the rest of such a main file, with every path the
	// unprivileged process writes moved into dir.
	errorLog := filepath.Join(dir, "error.log")
	var main strings.Builder
	// In the foreground and as one process (no workers), so that the
	// test has one process to stop, which dies with the test binary.
	main.WriteString("daemon off;\nmaster_process off;\n")
	main.WriteString("pid " + filepath.Join(dir, "nginx.pid") + ";\n")
	main.WriteString("error_log " + errorLog + " info;\n")
	main.WriteString("events { worker_connections 128; }\nhttp {\n")
	main.WriteString("access_log " + filepath.Join(dir, "access.log") + ";\n")
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		main.WriteString(kind + "_temp_path " + filepath.Join(dir, kind) + ";\n")
	}
	main.WriteString(site + "\n}\n")
	conf := filepath.Join(dir, "nginx.conf")
	writeFile(t, conf, []byte(main.String()))
	p.logs = []string{filepath.Join(dir, "nginx.out"), errorLog}

	proc := startProxy(t, exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", errorLog), p.logs[0])
	p.waitReady(t, proc)
	checkRecipe(t, p)
}

// caddyEnv points Caddy's data and configuration directories (where it
// would keep certificates and autosave its configuration) into dir.
func caddyEnv(dir string) []string {
	return []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "PATH=/usr/bin:/bin"}
}

// TestCaddyfileValidates checks the Caddyfile as shipped with Caddy's own
// validator, which loads and provisions every module it names, and its
// formatter, whose complaint Caddy would otherwise log at every start.
func TestCaddyfileValidates(t *testing.T) {
	bin := requireTool(t, "caddy")
	dir := t.TempDir()
	cmd := exec.Command(bin, "validate", "--config", "caddy/Caddyfile", "--adapter", "caddyfile")
	cmd.Env = caddyEnv(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
	shipped, err := os.ReadFile("caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(bin, "fmt", "caddy/Caddyfile")
	cmd.Env = caddyEnv(dir)
	formatted, err := cmd.Output()
	if err != nil {
		t.Fatalf("caddy fmt: %v", err)
	}
	if string(formatted) != string(shipped) {
		t.Errorf("caddy fmt would change caddy/Caddyfile (run caddy fmt --overwrite); it wants:\n%s", formatted)
	}
}

// TestCaddyRecipe runs caddy/Caddyfile in front of Palisade.
func TestCaddyRecipe(t *testing.T) {
	bin := requireTool(t, "caddy")
	dir := runDir(t)
	p, certFile, keyFile := newFrontProxy(t, dir)
	upstream := strings.TrimPrefix(p.palisade.URL, "http://")
	// Only the global options gain lines: the test's ports, no admin
	// endpoint, nothing installed into the system's trust store, and the
	// loopback address only.
	testOptions := strings.Join([]string{
		"admin off", "http_port " + p.httpPort, "skip_install_trust", "default_bind 127.0.0.1",
	}, "\n\t")
	site := recipe(t, "caddy/Caddyfile",
		"\n{\n\tservers {", "\n{\n\t"+testOptions+"\n\tservers {",
		"\nblog.example.com {", "\nlocalhost:"+p.httpsPort+" {\n\ttls "+certFile+" "+keyFile,
		"reverse_proxy 127.0.0.1:3000 {", "reverse_proxy "+upstream+" {",
	)
	conf := filepath.Join(dir, "Caddyfile")
	writeFile(t, conf, []byte(site))
	p.logs = []string{filepath.Join(dir, "caddy.out")}

	cmd := exec.Command(bin, "run", "--config", conf, "--adapter", "caddyfile")
	cmd.Env = caddyEnv(dir)
	proc := startProxy(t, cmd, p.logs[0])
	p.waitReady(t, proc)
	checkRecipe(t, p)
}
