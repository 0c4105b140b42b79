// Package redis keeps Palisade's shared, short-lived state in Redis so that
// many server instances behind a load balancer agree on it: rate-limit
// counters (exact across instances), website sessions and revoked token IDs.
//
// Every call is bounded by short timeouts: Redis sits on the request path,
// and a slow or unreachable Redis must turn into a prompt error the caller
// can act on (fail open or closed), never into stalled requests. Errors say
// which kind of failure it was (see IsUnreachable): Redis out of reach, or
// this client too busy to ask it in time.
package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Defaults for Options fields left zero.
const (
	DefaultTimeout  = time.Second
	DefaultPoolWait = time.Second
	DefaultPoolSize = 64
	DefaultPrefix   = "palisade:"
)

// dialTimeout bounds establishing one connection. It is longer than the
// per-call timeout because a first connection (TCP, maybe TLS, HELLO) costs
// more than a command; the per-call context still caps what a request waits.
const dialTimeout = 2 * time.Second

// hashedLen is how many hex characters of a SHA-256 digest name a key: 128
// bits, far beyond any chance of collision, and short enough to keep keys
// small.
const hashedLen = 32

// Options configures Open.
type Options struct {
	// Timeout bounds each command's round trip to Redis (writing it,
	// reading the answer); 0 means DefaultTimeout. Redis answers in well
	// under a millisecond; the default is generous because a process
	// starved of CPU (a burst on a small machine) reads its answers late.
	Timeout time.Duration
	// PoolWait bounds waiting for a free pooled connection when all are
	// in use; 0 means DefaultPoolWait. It is separate from Timeout because
	// a queue for connections during a burst says this instance is busy,
	// not that Redis is down, and a burst of ordinary size must be able to
	// wait its turn.
	PoolWait time.Duration
	// PoolSize is the most connections kept to Redis; 0 means
	// DefaultPoolSize, or 10 per CPU if that is more (go-redis's own
	// default). A pool_size in the URL wins over both.
	PoolSize int
	// Prefix starts every key, so several applications (or test runs) can
	// share one Redis database; "" means DefaultPrefix.
	Prefix string
}

// Client is Palisade's connection to Redis: every key starts with Prefix.
// It is safe for concurrent use.
type Client struct {
	rdb      *goredis.Client
	prefix   string
	budget   time.Duration // the whole of one call: see bound
	password string        // only to scrub it from error text
}

// Open connects to the Redis server at rawURL (redis://, rediss:// or unix://,
// as go-redis's ParseURL accepts) and checks that it answers. Error messages
// never contain the URL's password.
func Open(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.PoolWait <= 0 {
		opts.PoolWait = DefaultPoolWait
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = max(DefaultPoolSize, 10*runtime.GOMAXPROCS(0))
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	ro, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, parseError(rawURL)
	}
	ro.DialTimeout = dialTimeout
	ro.ReadTimeout = opts.Timeout
	ro.WriteTimeout = opts.Timeout
	ro.PoolTimeout = opts.PoolWait
	if ro.PoolSize == 0 {
		// Sized so that a burst of a few dozen concurrent requests on one
		// instance finds a connection each instead of queueing; Redis
		// serves thousands of clients, and idle ones are closed after
		// go-redis's idle time.
		ro.PoolSize = opts.PoolSize
	}
	// No automatic re-sending (-1; go-redis reads 0 as "3"): a counting
	// script whose reply was lost or late has usually run already, and
	// sending it again would count one request twice. A pooled connection
	// the server closed while idle is found by go-redis's health check
	// when it is taken from the pool, before anything is sent.
	ro.MaxRetries = -1
	// The same reasoning for dialing: go-redis would otherwise try five
	// times with back-off inside one call.
	ro.DialerRetries = 1
	// Let a caller's earlier deadline (a request about to time out) cut a
	// call short instead of only the socket timeouts above.
	ro.ContextTimeoutEnabled = true

	c := &Client{
		rdb:    goredis.NewClient(ro),
		prefix: opts.Prefix,
		// One call may wait for a connection, dial one, and send its
		// command: each phase has its own bound inside go-redis, and
		// this caps the sum.
		budget:   ro.PoolTimeout + dialTimeout + opts.Timeout,
		password: ro.Password,
	}
	// The first call must also dial, so it gets the dial budget on top of
	// the usual per-call timeout.
	pctx, cancel := context.WithTimeout(ctx, dialTimeout+opts.Timeout)
	defer cancel()
	if err := c.rdb.Ping(pctx).Err(); err != nil {
		_ = c.rdb.Close()
		return nil, c.newOpenError(ctx, ro, err)
	}
	return c, nil
}

// Ping checks that Redis answers (for readiness checks).
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return c.wrap("ping", err)
	}
	return nil
}

// Close releases the connections. Calls made afterwards return errors.
func (c *Client) Close() error {
	if err := c.rdb.Close(); err != nil {
		return c.wrap("close", err)
	}
	return nil
}

// bound caps one call. The phases of a call (waiting for a connection,
// dialing, each round trip) are bounded separately by go-redis, so that a
// long wait for a connection does not eat into the command's own budget;
// this is the backstop over their sum. A caller's earlier deadline still
// wins, since context.WithTimeout never extends one.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.budget)
}

// key names a Redis key: the prefix, a namespace such as "sess:", and a
// hash of the caller's part. Hashing means no caller-supplied string
// (newlines, glob characters, megabytes) ever reaches Redis as a key, and
// every key in a namespace has the same small length.
func (c *Client) key(namespace, part string) string {
	sum := sha256.Sum256([]byte(part))
	return c.prefix + namespace + hex.EncodeToString(sum[:])[:hashedLen]
}

// wrap adds context to a go-redis error. go-redis errors name the address
// at most, but the password is scrubbed anyway should one ever quote it;
// only then is the chain cut, since keeping it would keep the password.
func (c *Client) wrap(op string, err error) error {
	kind := errBusy
	if unreachable(err) {
		kind = errUnreachable
	}
	msg := err.Error()
	if c.password != "" && strings.Contains(msg, c.password) {
		return fmt.Errorf("redis: %s: %w: %w: %s", op, errUnavailable, kind, strings.ReplaceAll(msg, c.password, "xxxxx"))
	}
	return fmt.Errorf("redis: %s: %w: %w: %w", op, errUnavailable, kind, err)
}

// errUnavailable marks every Redis failure as a dependency outage: callers
// answer a retryable 503, not a 500.
var errUnavailable = blog.Errorf(blog.EUNAVAILABLE, "A shared service is unavailable, please retry")

// The two kinds of failure: every error a Client returns wraps one.
var (
	errUnreachable = errors.New("unreachable")
	errBusy        = errors.New("no answer in time")
)

// IsUnreachable reports whether err says Redis itself could not be reached:
// the connection was refused, reset or closed, or dialing failed for a
// reason other than time (no route, name not found). It is false when
// time ran out (a dial, a reply, a wait for a pooled connection, the
// caller's deadline): a Redis that is slow to answer cannot be told from
// this instance being too busy to read the answer in time, as in a burst
// on a small machine. Callers that fail open use it so that only an
// outage opens a limit, never load.
func IsUnreachable(err error) bool { return errors.Is(err, errUnreachable) }

// unreachable classifies a go-redis error (see IsUnreachable).
func unreachable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	if errors.Is(err, goredis.ErrPoolTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) {
		// Not a time-out (above): refused, reset, no route, name not
		// found.
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// parseError describes a URL go-redis rejected without quoting it: url.Parse
// errors repeat the whole URL, password included. Parsing again with the
// credentials cut off tells whether the rest of the URL is at fault.
func parseError(rawURL string) error {
	redacted, ok := withoutCredentials(rawURL)
	if !ok {
		return errors.New("redis: invalid URL: want redis://[user:password@]host[:port][/db], rediss://… or unix://…")
	}
	if _, err := goredis.ParseURL(redacted); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the bare reason; the URL is named below
		}
		return fmt.Errorf("redis: invalid URL %q: %v", redacted, err)
	}
	return fmt.Errorf("redis: invalid URL %q: malformed user name or password", redacted)
}

// withoutCredentials cuts the user info out of a URL's text without parsing
// it (it may not parse): everything between "://" and the last "@". The
// last, not the first before the path, because a malformed password may
// hold "@", "/" or "?" itself; cutting too much only loses detail. ok is
// false when the text is not URL-shaped enough to tell what is safe to show.
func withoutCredentials(rawURL string) (redacted string, ok bool) {
	scheme, rest, found := strings.Cut(rawURL, "://")
	if !found || scheme == "" || strings.ContainsFunc(scheme, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')
	}) {
		return "", false
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "xxxxx@" + rest[i+1:]
	}
	return scheme + "://" + rest, true
}
