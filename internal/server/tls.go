package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
)

// CipherSuites are the TLS 1.2 suites Palisade accepts: ECDHE key exchange
// (forward secrecy) with an AEAD cipher (AES-GCM or ChaCha20-Poly1305),
// for ECDSA and RSA certificates alike. No CBC, RC4, 3DES or static-RSA
// key exchange. TLS 1.3 suites are not configurable in Go and are all
// AEAD and forward-secret. TLS_ECDHE_*_WITH_AES_128_GCM_SHA256 must stay:
// HTTP/2 requires it (RFC 7540, section 9.2.2).
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CurvePreferences are the key exchanges offered: X25519 and P-256, each
// also in its hybrid post-quantum form (TLS 1.3 only), which Go prefers.
var CurvePreferences = []tls.CurveID{
	tls.X25519MLKEM768,
	tls.SecP256r1MLKEM768,
	tls.X25519,
	tls.CurveP256,
}

// TLSConfig returns Palisade's server TLS configuration: TLS 1.2 at least
// (Go negotiates 1.3 whenever the client can), the suites and curves
// above, HTTP/2 offered before HTTP/1.1, and the certificate from
// getCertificate on every handshake (see [CertReloader]).
//
// Go's server never renegotiates, never compresses and has no heartbeat
// extension, so those need no setting.
func TLSConfig(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     CipherSuites,
		CurvePreferences: CurvePreferences,
		NextProtos:       []string{"h2", "http/1.1"},
		GetCertificate:   getCertificate,
	}
}

// NewTLS returns server.New's server for h, set up to serve HTTPS with
// TLSConfig(getCertificate). Run it with ServeTLS.
//
// Failed handshakes are logged at debug level, not as warnings: on a
// public port they are mostly scanners and old clients refused by policy.
func NewTLS(h http.Handler, log *slog.Logger, getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *http.Server {
	srv := New(h, log)
	srv.TLSConfig = TLSConfig(getCertificate)
	srv.ErrorLog = stdlog.New(serverErrorLog{log}, "", 0)
	return srv
}

// serverErrorLog writes net/http's error log to slog: TLS handshake
// failures at debug level, everything else as a warning.
type serverErrorLog struct{ log *slog.Logger }

func (w serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// ServeTLS is Serve over TLS: srv (from NewTLS) answers HTTPS, HTTP/2
// included, on ln until ctx is done, then shuts down gracefully.
func ServeTLS(ctx context.Context, srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig == nil || srv.TLSConfig.GetCertificate == nil {
		return errors.New("serve TLS: the server has no certificate")
	}
	// net/http sees the *tls.Conn, so it hands connections that
	// negotiated "h2" to its HTTP/2 server, as ListenAndServeTLS does. The
	// listener gets a copy: net/http's HTTP/2 set-up may touch srv.TLSConfig.
	return Serve(ctx, srv, tls.NewListener(ln, srv.TLSConfig.Clone()))
}

// Listener is one server and what it serves on.
type Listener struct {
	Server   *http.Server
	Listener net.Listener
	TLS      bool // serve with ServeTLS rather than Serve
}

// ServeAll runs every server until ctx is done or one of them fails; then
// all of them shut down gracefully, together. It returns the first error.
func ServeAll(ctx context.Context, ls ...Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() {
			var err error
			if l.TLS {
				err = ServeTLS(ctx, l.Server, l.Listener)
			} else {
				err = Serve(ctx, l.Server, l.Listener)
			}
			cancel() // one down, all down: never half a server
			errc <- err
		}()
	}
	var first error
	for range ls {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// RedirectHandler is the whole plain-HTTP side of a server that serves
// HTTPS itself: every request, whatever its method, path or Host, gets a
// 308 Permanent Redirect (which keeps the method and body, unlike 301) to
// the same path and query at https://<host of base>, with the security
// headers and an empty body. The host comes from the configuration, never
// from the request, so the redirect can't be pointed at another site.
//
// Strict-Transport-Security is not sent: browsers ignore it over plain
// HTTP (RFC 6797, section 8.1); the HTTPS side sends it.
func RedirectHandler(base *url.URL) http.Handler {
	host := base.Host
	headers := httpsec.SecureHeaders(httpsec.HeaderOptions{CSP: httpsec.APICSP})
	return headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, rawPath := r.URL.Path, r.URL.RawPath
		if !strings.HasPrefix(path, "/") {
			// "OPTIONS *" and CONNECT's host:port have no path of ours.
			path, rawPath = "/", ""
		}
		target := url.URL{Scheme: "https", Host: host, Path: path, RawPath: rawPath, RawQuery: r.URL.RawQuery}
		w.Header().Set("Location", target.String())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusPermanentRedirect)
	}))
}

// NewRedirect returns the plain-HTTP server of PALISADE_HTTP_REDIRECT_ADDR:
// server.New's time-outs and limits around RedirectHandler(base), which
// answers every request, "OPTIONS *" included.
//
// It answers any Host header: a redirect to the configured host reveals
// nothing, so a DNS-rebinding page gains nothing from it.
func NewRedirect(base *url.URL, log *slog.Logger) *http.Server {
	return New(RedirectHandler(base), log)
}

// DefaultReloadInterval is how often, at most, CertReloader looks at its
// files.
const DefaultReloadInterval = 5 * time.Second

// CertReloader serves a certificate and key from PEM files and picks up
// new files without a restart: at most once per Interval, the handshake
// that asks for the certificate first compares the files' modification
// time, size and identity with what was loaded, and reloads when they
// differ. A renewal (certbot, cert-manager, a deploy script) is thus
// served from the first handshake a few seconds after it lands, whether
// the files were rewritten in place or swapped by rename or symlink.
//
// Checking on handshake rather than in a goroutine of its own: there is
// nothing to start or stop (nor leak in tests), no work while nobody
// connects, and all state is behind one mutex, so it is race-free. The
// cost is two stat calls every Interval, paid by one handshake.
//
// A pair that fails to load (a half-written file, a key that doesn't
// match) is logged as a warning and the previous certificate stays in
// service; it is tried again as soon as either file changes.
type CertReloader struct {
	certFile, keyFile string
	interval          time.Duration
	log               *slog.Logger
	now               func() time.Time

	cert atomic.Pointer[tls.Certificate] // what handshakes get

	mu      sync.Mutex // guards the fields below
	checked time.Time  // last look at the files
	stamp   pairStamp  // the files as last seen
}

// NewCertReloader loads the pair, or fails: a server must not start
// without its certificate. interval <= 0 means DefaultReloadInterval.
func NewCertReloader(certFile, keyFile string, interval time.Duration, log *slog.Logger) (*CertReloader, error) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, interval: interval, log: log, now: time.Now}
	stamp := r.statPair()
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert.Store(cert)
	r.stamp, r.checked = stamp, r.now()
	r.warnIfExpiring(cert)
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.maybeReload()
	return r.cert.Load(), nil
}

// Certificate returns the certificate being served.
func (r *CertReloader) Certificate() *tls.Certificate { return r.cert.Load() }

func (r *CertReloader) maybeReload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < r.interval {
		return
	}
	r.checked = now
	stamp := r.statPair()
	if stamp.equal(r.stamp) {
		return
	}
	// Stat before reading: should a file change while it is read, the
	// next look sees a newer stamp and reads it again.
	r.stamp = stamp
	cert, err := r.load()
	if err != nil {
		r.log.Warn("TLS certificate not reloaded; still serving the previous one", "error", err)
		return
	}
	r.cert.Store(cert)
	r.log.Info("TLS certificate reloaded", "cert", r.certFile, "subject", cert.Leaf.Subject.String(), "notAfter", cert.Leaf.NotAfter)
	r.warnIfExpiring(cert)
}

func (r *CertReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load %s and %s: %v", r.certFile, r.keyFile, oneLine(err))
	}
	if cert.Leaf == nil {
		return nil, fmt.Errorf("load %s: no certificate", r.certFile)
	}
	return &cert, nil
}

// warnIfExpiring logs an expired certificate at ERROR, in words no one
// can misread (every browser refuses it), and one that expires within a
// week at WARN, with the days left.
func (r *CertReloader) warnIfExpiring(cert *tls.Certificate) {
	notAfter := cert.Leaf.NotAfter
	left := notAfter.Sub(r.now())
	switch {
	case left <= 0:
		r.log.Error("TLS certificate EXPIRED: browsers refuse it; renew it (it is picked up without a restart)",
			"cert", r.certFile, "notAfter", notAfter)
	case left < 7*24*time.Hour:
		r.log.Warn(fmt.Sprintf("TLS certificate expires in %.1f days: renew it", left.Hours()/24),
			"cert", r.certFile, "notAfter", notAfter)
	}
}

// Expired reports whether the certificate being served has expired.
func (r *CertReloader) Expired() bool { return !r.now().Before(r.cert.Load().Leaf.NotAfter) }

func (r *CertReloader) statPair() pairStamp {
	return pairStamp{statFile(r.certFile), statFile(r.keyFile)}
}

// fileStamp is what tells that a file changed without reading it.
type fileStamp struct {
	info os.FileInfo // nil if the file could not be stat'ed
	err  string
}

func statFile(name string) fileStamp {
	info, err := os.Stat(name) // follows symlinks, as a reload must
	if err != nil {
		return fileStamp{err: err.Error()}
	}
	return fileStamp{info: info}
}

func (a fileStamp) equal(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil && a.err == b.err
	}
	return os.SameFile(a.info, b.info) && a.info.ModTime().Equal(b.info.ModTime()) && a.info.Size() == b.info.Size()
}

type pairStamp struct{ cert, key fileStamp }

func (a pairStamp) equal(b pairStamp) bool { return a.cert.equal(b.cert) && a.key.equal(b.key) }

// oneLine keeps an error on one log or start-up line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
