package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// openError is why Open could not use Redis, written for the operator
// reading start-up output: which server, what failed, and what to check.
// Its text is never the client-facing 503 message, though the chain still
// carries errUnavailable for callers that map errors to HTTP.
type openError struct {
	addr string
	what string
	err  error // the cause; nil when its text held the password
}

func (e *openError) Error() string { return "redis at " + e.addr + ": " + e.what }

func (e *openError) Unwrap() []error {
	if e.err == nil {
		return []error{errUnavailable}
	}
	return []error{errUnavailable, e.err}
}

// newOpenError explains err, the failure of Open's first PING to the
// server ro describes.
func (c *Client) newOpenError(ctx context.Context, ro *goredis.Options, err error) error {
	e := &openError{addr: ro.Addr, what: c.explain(ctx, ro, err), err: err}
	if c.password != "" && strings.Contains(err.Error(), c.password) {
		e.err = nil // keeping the cause would keep the password
	}
	return e
}

// explain names what failed and its likely cause.
func (c *Client) explain(ctx context.Context, ro *goredis.Options, err error) string {
	useTLS := ro.TLSConfig != nil
	var (
		dnsErr     *net.DNSError
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		recordErr  tls.RecordHeaderError
		redisReply goredis.Error
	)
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) || isTimeout(err)
	switch {
	case goredis.IsAuthError(err):
		return "authentication failed: check the user name and password in the URL (and the server's requirepass or ACL)"
	case goredis.IsPermissionError(err):
		return "the user may not run PING: its ACL must allow the commands Palisade uses"
	case errors.As(err, &redisReply):
		return "the server refused the connection: " + c.scrub(err.Error())
	case errors.As(err, &dnsErr):
		return "cannot resolve the host name " + dnsErr.Name + ": check the host in the URL"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: is Redis running, and listening on that address and port?"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return "TLS certificate not accepted (" + c.scrub(err.Error()) + "): the server's certificate must be valid for that host and signed by a CA this machine trusts"
	case useTLS && errors.As(err, &recordErr):
		return "TLS handshake failed: the server answered in plain text; is the server plaintext? use redis://"
	case useTLS && (timedOut || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		if speaksPlainRESP(ctx, ro.Addr) {
			return "TLS handshake failed: is the server plaintext? it answers without TLS; use redis://"
		}
		return "TLS handshake failed (" + c.scrub(err.Error()) + "): is it a Redis server with TLS on that port?"
	case !useTLS && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		return "the server closed the connection: if it requires TLS, use rediss://"
	case timedOut:
		return "no answer within " + (dialTimeout + ro.ReadTimeout).String() + ": is the address right, is it a Redis server, or is a firewall dropping the packets?"
	}
	return "cannot connect: " + c.scrub(err.Error())
}

// scrub removes the password from text that might quote it.
func (c *Client) scrub(s string) string {
	if c.password == "" {
		return s
	}
	return strings.ReplaceAll(s, c.password, "xxxxx")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// speaksPlainRESP reports whether addr answers a plain-text PING the way
// Redis does (+PONG, or an error such as -NOAUTH), which tells a TLS
// handshake that timed out against a plaintext server from other silence.
// It runs only after Open has failed.
func speaksPlainRESP(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer func() { _ = conn.Close() }() // a probe's connection: nothing to report
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline) // a failure shows up as a read error below
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(conn, b); err != nil {
		return false
	}
	return b[0] == '+' || b[0] == '-'
}
