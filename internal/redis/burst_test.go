package redis

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
)

// occupy keeps n of c's pooled connections busy for d (a blocking pop on
// a key nobody pushes to), as a burst of slow calls would, and returns a
// function that waits until they are free again.
func occupy(t *testing.T, c *Client, n int, d time.Duration) (wait func()) {
	t.Helper()
	var wg sync.WaitGroup
	key := c.prefix + "occupy:" + randomHex(t, 8)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// BLPOP gets its block time on top of the read timeout from
			// go-redis, so it holds the connection for d and then ends
			// with redis.Nil.
			_ = c.rdb.BLPop(context.Background(), d, key).Err() // redis.Nil: nothing was pushed, as intended
		}()
	}
	// Let the pops reach Redis and take their connections.
	deadline := time.Now().Add(10 * time.Second)
	for c.rdb.PoolStats().TotalConns-c.rdb.PoolStats().IdleConns < uint32(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the blocking pops did not take %d connections", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return wg.Wait
}

// TestBurstWaitsForConnections: a burst larger than the pool waits its
// turn for a connection, well past the command timeout, and every hit is
// counted; none fails, so none could fail open.
func TestBurstWaitsForConnections(t *testing.T) {
	t.Parallel()
	c := openTest(t, testPrefix(t), Options{PoolSize: 2, PoolWait: 10 * time.Second, Timeout: 250 * time.Millisecond})
	l := c.Limiter(httpsec.Rate{Limit: 10, Window: time.Minute})
	// Both connections stay busy for longer than the 250 ms command
	// timeout: the burst's wait for them must not count against it.
	wait := occupy(t, c, 2, time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed, refused := 0, 0
	for range 15 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Take(context.Background(), "client")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Take during a burst: %v", err)
			case d.Allowed:
				allowed++
			default:
				refused++
			}
		}()
	}
	wg.Wait()
	wait()
	if allowed != 10 || refused != 5 {
		t.Errorf("a burst of 15 on a limit of 10: %d allowed, %d refused; want 10 and 5", allowed, refused)
	}
}

// TestErrorKinds: only a Redis that refuses or drops connections is
// reported as unreachable (the one failure a caller may fail open on); a
// pool exhausted past PoolWait, or an answer that does not come in time,
// is this client being busy or starved.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	rate := httpsec.Rate{Limit: 10, Window: time.Minute}

	t.Run("pool exhausted is not unreachable", func(t *testing.T) {
		t.Parallel()
		c := openTest(t, testPrefix(t), Options{PoolSize: 1, PoolWait: 50 * time.Millisecond})
		wait := occupy(t, c, 1, 2*time.Second)
		defer wait()
		_, err := c.Limiter(rate).Take(context.Background(), "k")
		if err == nil {
			t.Fatal("Take with every connection busy past PoolWait: no error")
		}
		if IsUnreachable(err) {
			t.Errorf("IsUnreachable(%v) = true for an exhausted pool", err)
		}
		if !errors.Is(err, errUnavailable) {
			t.Errorf("Take error %v is not a retryable unavailable error", err)
		}
	})

	t.Run("refused is unreachable", func(t *testing.T) {
		t.Parallel()
		proxy, u := startProxy(t)
		c := openURL(t, u, testPrefix(t), Options{})
		take(t, c.Limiter(rate), "k")
		proxy.Stop()
		for i := range 3 {
			if _, err := c.Limiter(rate).Take(context.Background(), "k"); !IsUnreachable(err) {
				t.Errorf("Take %d after the server went away: IsUnreachable(%v) = false", i, err)
			}
		}
	})

	t.Run("silent is not unreachable", func(t *testing.T) {
		// A Redis that accepts but does not answer in time cannot be told
		// from this instance being too starved to read the answer: it
		// must not open a limit.
		t.Parallel()
		proxy, u := startProxy(t)
		c := openURL(t, u, testPrefix(t), Options{Timeout: 100 * time.Millisecond})
		take(t, c.Limiter(rate), "k")
		proxy.Hang()
		_, err := c.Limiter(rate).Take(context.Background(), "k")
		if err == nil || IsUnreachable(err) {
			t.Errorf("Take on a silent server: %v; want an error that is not unreachable", err)
		}
	})

	t.Run("caller's cancellation is not unreachable", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Limiter(rate).Take(ctx, "k"); err == nil || IsUnreachable(err) {
			t.Errorf("Take with a canceled context: %v, want an error that is not unreachable", err)
		}
	})
}
