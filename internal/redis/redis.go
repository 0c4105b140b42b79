// Package redis keeps Palisade's shared, short-lived state in Redis so that
// many server instances behind a load balancer agree on it: rate-limit
// counters (exact across instances), website sessions and revoked token IDs.
//
// Every call is bounded by a short timeout: Redis sits on the request path,
// and a slow or unreachable Redis must turn into a prompt error the caller
// can act on (fail open or closed), never into stalled requests.
package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Defaults for Options fields left zero.
const (
	DefaultTimeout = 250 * time.Millisecond
	DefaultPrefix  = "palisade:"
)

// dialTimeout bounds establishing one connection. It is longer than the
// per-call timeout because a first connection (TCP, maybe TLS, HELLO) costs
// more than a command; the per-call context still caps what a request waits.
const dialTimeout = time.Second

// hashedLen is how many hex characters of a SHA-256 digest name a key: 128
// bits, far beyond any chance of collision, and short enough to keep keys
// small.
const hashedLen = 32

// Options configures Open.
type Options struct {
	// Timeout bounds every call to Redis, including waiting for a pooled
	// connection; 0 means DefaultTimeout.
	Timeout time.Duration
	// Prefix starts every key, so several applications (or test runs) can
	// share one Redis database; "" means DefaultPrefix.
	Prefix string
}

// Client is Palisade's connection to Redis: every key starts with Prefix.
// It is safe for concurrent use.
type Client struct {
	rdb      *goredis.Client
	prefix   string
	timeout  time.Duration
	password string // only to scrub it from error text
}

// Open connects to the Redis server at rawURL (redis://, rediss:// or unix://,
// as go-redis's ParseURL accepts) and checks that it answers. Error messages
// never contain the URL's password.
func Open(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
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
	ro.PoolTimeout = opts.Timeout
	// One retry covers a pooled connection the server closed while idle;
	// more would only spend the caller's short budget on a Redis that is
	// down.
	ro.MaxRetries = 1
	// The same reasoning for dialing: go-redis would otherwise try five
	// times with back-off inside one call.
	ro.DialerRetries = 1
	// Let a caller's earlier deadline (a request about to time out) cut a
	// call short instead of only the socket timeouts above.
	ro.ContextTimeoutEnabled = true

	c := &Client{
		rdb:      goredis.NewClient(ro),
		prefix:   opts.Prefix,
		timeout:  opts.Timeout,
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

// bound applies the per-call timeout. A caller's earlier deadline still
// wins, since context.WithTimeout never extends one.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
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
	msg := err.Error()
	if c.password != "" && strings.Contains(msg, c.password) {
		return fmt.Errorf("redis: %s: %w: %s", op, errUnavailable, strings.ReplaceAll(msg, c.password, "xxxxx"))
	}
	return fmt.Errorf("redis: %s: %w: %w", op, errUnavailable, err)
}

// errUnavailable marks every Redis failure as a dependency outage: callers
// answer a retryable 503, not a 500.
var errUnavailable = blog.Errorf(blog.EUNAVAILABLE, "A shared service is unavailable, please retry")

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
