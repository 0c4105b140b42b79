package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// envURL names the variable holding the test server's URL. The tests run
// against a real Redis: the point of this package is what Redis does with
// concurrent scripts and expiry, which a mock would only restate.
const envURL = "PALISADE_TEST_REDIS_URL"

// testURL returns the test server's URL, or skips the test when none is
// configured.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		tb.Skip("redis tests skipped: " + envURL + " is not set")
	}
	return u
}

// testPrefix returns a fresh random key prefix, so tests can run in
// parallel (with each other and with anything else using the server)
// without seeing each other's keys. Every key under it is deleted at
// cleanup.
func testPrefix(tb testing.TB) string {
	tb.Helper()
	raw := rawClient(tb)
	prefix := "palisade-test:" + randomHex(tb, 8) + ":"
	tb.Cleanup(func() {
		keys := keysUnder(tb, raw, prefix)
		if len(keys) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := raw.Del(ctx, keys...).Err(); err != nil {
			tb.Errorf("cleanup: delete %d keys under %s: %v", len(keys), prefix, err)
		}
	})
	return prefix
}

// openTest opens a Client on the test server with the given prefix and
// closes it at cleanup. opts.Prefix is overwritten.
func openTest(tb testing.TB, prefix string, opts Options) *Client {
	tb.Helper()
	return openURL(tb, testURL(tb), prefix, opts)
}

// openURL opens a Client on rawURL and closes it at cleanup.
func openURL(tb testing.TB, rawURL, prefix string, opts Options) *Client {
	tb.Helper()
	opts.Prefix = prefix
	c, err := Open(context.Background(), rawURL, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	// Closing twice (a test that closes the client itself) is harmless.
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// newTestClient opens a Client with default options on a fresh prefix.
func newTestClient(tb testing.TB) *Client {
	tb.Helper()
	return openTest(tb, testPrefix(tb), Options{})
}

// rawClient is a plain go-redis client on the test server, for looking at
// keys the way Redis sees them.
func rawClient(tb testing.TB) *goredis.Client {
	tb.Helper()
	ro, err := goredis.ParseURL(testURL(tb))
	if err != nil {
		tb.Fatalf("parse %s: %v", envURL, err)
	}
	rdb := goredis.NewClient(ro)
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// keysUnder lists every key starting with prefix (SCAN, never KEYS, so a
// shared server is not blocked).
func keysUnder(tb testing.TB, raw *goredis.Client, prefix string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []string
	it := raw.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		tb.Fatalf("scan %s*: %v", prefix, err)
	}
	return keys
}

// pttl returns the key's remaining time to live as Redis reports it
// (negative when the key has no expiry or does not exist).
func pttl(tb testing.TB, raw *goredis.Client, key string) time.Duration {
	tb.Helper()
	d, err := raw.PTTL(context.Background(), key).Result()
	if err != nil {
		tb.Fatalf("PTTL: %v", err)
	}
	return d
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// tcpProxy forwards loopback connections to the test server, so a test can
// make "the server" vanish (Stop) or stop answering while connections stay
// open (Hang), the case where only timeouts save a caller.
type tcpProxy struct {
	ln     net.Listener
	target string
	hang   atomic.Bool
	once   sync.Once
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

// startProxy starts a proxy to the test server and returns it with a URL
// that reaches the server through it.
func startProxy(t *testing.T) (*tcpProxy, string) {
	t.Helper()
	u, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatalf("parse %s: %v", envURL, err)
	}
	ro, err := goredis.ParseURL(u.String())
	if err != nil {
		t.Fatalf("parse %s: %v", envURL, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &tcpProxy{ln: ln, target: ro.Addr, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Stop)
	u.Host = ln.Addr().String()
	return p, u.String()
}

// Hang makes the proxy swallow everything from now on, in both directions,
// while keeping connections open and still accepting new ones.
func (p *tcpProxy) Hang() { p.hang.Store(true) }

// Stop closes the listener and every connection, as a server going down.
func (p *tcpProxy) Stop() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		_ = p.ln.Close()
		p.wg.Wait()
	})
}

// track registers a connection for Stop; false if the proxy is stopped.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *tcpProxy) handle(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(server) {
		_ = server.Close()
		_ = client.Close()
		return
	}
	p.wg.Add(2)
	go p.pipe(server, client)
	go p.pipe(client, server)
}

// pipe copies src to dst until either fails, dropping the bytes while the
// proxy hangs. It closes both ends so the opposite pipe ends too.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer func() {
		_ = src.Close()
		_ = dst.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.hang.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
