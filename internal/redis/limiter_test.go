package redis

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
)

// take calls Take and fails the test on error.
func take(t *testing.T, l httpsec.Limiter, key string) httpsec.Decision {
	t.Helper()
	d, err := l.Take(context.Background(), key)
	if err != nil {
		t.Fatalf("Take(%.20q): %v", key, err)
	}
	return d
}

// peek calls Peek and fails the test on error.
func peek(t *testing.T, l httpsec.Limiter, key string) httpsec.Decision {
	t.Helper()
	d, err := l.Peek(context.Background(), key)
	if err != nil {
		t.Fatalf("Peek(%.20q): %v", key, err)
	}
	return d
}

// refund calls Refund and fails the test on error.
func refund(t *testing.T, l httpsec.Limiter, key string) {
	t.Helper()
	if err := l.Refund(context.Background(), key); err != nil {
		t.Fatalf("Refund(%.20q): %v", key, err)
	}
}

// wantDecision checks Allowed and Remaining, and that ResetAfter lies in
// (lo, hi]; lo = hi = 0 means it must be exactly 0.
func wantDecision(t *testing.T, d httpsec.Decision, allowed bool, remaining int, lo, hi time.Duration) {
	t.Helper()
	if d.Allowed != allowed || d.Remaining != remaining {
		t.Errorf("decision %+v: want Allowed=%v Remaining=%d", d, allowed, remaining)
	}
	if hi == 0 {
		if d.ResetAfter != 0 {
			t.Errorf("decision %+v: want ResetAfter 0", d)
		}
	} else if d.ResetAfter <= lo || d.ResetAfter > hi {
		t.Errorf("decision %+v: want ResetAfter in (%v, %v]", d, lo, hi)
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()

	t.Run("refuses the hit after the limit", func(t *testing.T) {
		t.Parallel()
		l := newTestClient(t).Limiter(httpsec.Rate{Limit: 3, Window: 10 * time.Second})
		for i := 1; i <= 3; i++ {
			d := take(t, l, "client")
			if d.Limit != 3 {
				t.Errorf("Limit = %d, want 3", d.Limit)
			}
			wantDecision(t, d, true, 3-i, 9*time.Second, 10*time.Second)
		}
		for range 2 {
			wantDecision(t, take(t, l, "client"), false, 0, 9*time.Second, 10*time.Second)
		}
		// Another key has its own count.
		wantDecision(t, take(t, l, "other"), true, 2, 9*time.Second, 10*time.Second)
	})

	t.Run("allows again after the window", func(t *testing.T) {
		t.Parallel()
		l := newTestClient(t).Limiter(httpsec.Rate{Limit: 2, Window: time.Second})
		take(t, l, "k")
		take(t, l, "k")
		d := take(t, l, "k")
		wantDecision(t, d, false, 0, 0, time.Second)
		time.Sleep(d.ResetAfter + 50*time.Millisecond)
		wantDecision(t, take(t, l, "k"), true, 1, 900*time.Millisecond, time.Second)
	})

	t.Run("peek does not count", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		l := c.Limiter(httpsec.Rate{Limit: 2, Window: 10 * time.Second})
		for range 5 {
			wantDecision(t, peek(t, l, "k"), true, 2, 0, 0)
		}
		if keys := keysUnder(t, rawClient(t), c.prefix); len(keys) != 0 {
			t.Errorf("Peek created keys: %q", keys)
		}
		wantDecision(t, take(t, l, "k"), true, 1, 9*time.Second, 10*time.Second)
		for range 5 {
			wantDecision(t, peek(t, l, "k"), true, 1, 9*time.Second, 10*time.Second)
		}
		// The limit-th Take is allowed, but after it a Peek says the next
		// one would not be.
		wantDecision(t, take(t, l, "k"), true, 0, 9*time.Second, 10*time.Second)
		wantDecision(t, peek(t, l, "k"), false, 0, 9*time.Second, 10*time.Second)
		if got := rawClient(t).Get(context.Background(), c.key(l.ns, "k")).Val(); got != "2" {
			t.Errorf("count in Redis = %q, want 2", got)
		}
	})

	t.Run("reset forgets the key", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		l := c.Limiter(httpsec.Rate{Limit: 1, Window: 10 * time.Second})
		take(t, l, "k")
		wantDecision(t, take(t, l, "k"), false, 0, 9*time.Second, 10*time.Second)
		if err := l.Reset(context.Background(), "k"); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		wantDecision(t, peek(t, l, "k"), true, 1, 0, 0)
		wantDecision(t, take(t, l, "k"), true, 0, 9*time.Second, 10*time.Second)
		if err := l.Reset(context.Background(), "never seen"); err != nil {
			t.Errorf("Reset of a missing key: %v", err)
		}
		if keys := keysUnder(t, rawClient(t), c.prefix); len(keys) != 1 {
			t.Errorf("keys after Reset = %q, want only k's", keys)
		}
	})

	t.Run("refund gives back exactly one", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		raw := rawClient(t)
		l := c.Limiter(httpsec.Rate{Limit: 3, Window: 10 * time.Second})
		key := c.key(l.ns, "k")
		take(t, l, "k")
		take(t, l, "k")
		before := pttl(t, raw, key)
		refund(t, l, "k")
		wantDecision(t, peek(t, l, "k"), true, 2, 9*time.Second, 10*time.Second)
		if after := pttl(t, raw, key); after <= 0 || after > before {
			t.Errorf("PTTL after refund = %v, want kept (<= %v and > 0)", after, before)
		}

		// Refunding more than was taken stops at zero.
		refund(t, l, "k")
		refund(t, l, "k")
		refund(t, l, "k")
		if got := raw.Get(context.Background(), key).Val(); got != "0" {
			t.Errorf("count after over-refunding = %q, want 0", got)
		}
		wantDecision(t, peek(t, l, "k"), true, 3, 0, 0)
		if ttl := pttl(t, raw, key); ttl <= 0 {
			t.Errorf("PTTL after refunds = %v, want the window's", ttl)
		}
		// The limit is whole again: three more hits, then refused.
		for i := 1; i <= 3; i++ {
			wantDecision(t, take(t, l, "k"), true, 3-i, 0, 10*time.Second)
		}
		wantDecision(t, take(t, l, "k"), false, 0, 0, 10*time.Second)

		// A refund for a key with no window creates nothing.
		refund(t, l, "absent")
		if n := raw.Exists(context.Background(), c.key(l.ns, "absent")).Val(); n != 0 {
			t.Errorf("Refund created a key")
		}
	})

	t.Run("hostile keys", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		l := c.Limiter(httpsec.Rate{Limit: 5, Window: 10 * time.Second})
		keys := []string{
			"", "a", "a\n", "a\nb", "line\r\nSET x y\r\n", "*", "?", "[a-z]", "{}", "{a}", "\x00",
			"palisade:rl:5:10000:", "ünïcødé", strings.Repeat("x", 1<<20),
		}
		for _, k := range keys {
			take(t, l, k)
		}
		// Each key has exactly its own hit: no two collided.
		for _, k := range keys {
			if d := peek(t, l, k); d.Remaining != 4 {
				t.Errorf("key %.20q: Remaining %d, want 4", k, d.Remaining)
			}
		}
		stored := keysUnder(t, rawClient(t), c.prefix)
		if len(stored) != len(keys) {
			t.Fatalf("%d keys in Redis, want %d", len(stored), len(keys))
		}
		want := len(c.prefix) + len(l.ns) + hashedLen
		for _, k := range stored {
			if len(k) != want {
				t.Errorf("Redis key %q: length %d, want %d", k, len(k), want)
			}
			if h := strings.TrimPrefix(k, c.prefix+l.ns); strings.Trim(h, "0123456789abcdef") != "" {
				t.Errorf("Redis key %q: not prefix, namespace and hex", k)
			}
		}
	})

	t.Run("window edge", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		raw := rawClient(t)
		l := c.Limiter(httpsec.Rate{Limit: 5, Window: time.Minute})
		key := c.key(l.ns, "k")
		take(t, l, "k")
		// The window's end is brought near by hand rather than by sleeping
		// to just before it, which a busy machine could oversleep.
		if err := raw.PExpire(context.Background(), key, 3*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
		// A hit just before the window ends counts in that window and does
		// not stretch it.
		d := take(t, l, "k")
		wantDecision(t, d, true, 3, 0, 3*time.Second)
		if ttl := pttl(t, raw, key); ttl <= 0 || ttl > 3*time.Second {
			t.Errorf("PTTL after a late hit = %v, want the old window's rest (<= 3s)", ttl)
		}
		time.Sleep(d.ResetAfter + 50*time.Millisecond)
		if n := raw.Exists(context.Background(), key).Val(); n != 0 {
			t.Errorf("key still exists after its window")
		}
		wantDecision(t, peek(t, l, "k"), true, 5, 0, 0)
		// The next hit starts a fresh, full window.
		wantDecision(t, take(t, l, "k"), true, 4, 59*time.Second, time.Minute)
		if ttl := pttl(t, raw, key); ttl <= 59*time.Second || ttl > time.Minute {
			t.Errorf("PTTL of the new window = %v, want about 1m", ttl)
		}
	})

	t.Run("every key has a TTL after concurrent use", func(t *testing.T) {
		t.Parallel()
		// A generous timeout: this test is about expiry, and the race
		// detector slows 20 goroutines enough to trip a short one on a busy
		// machine.
		prefix := testPrefix(t)
		c := openTest(t, prefix, Options{Timeout: 5 * time.Second})
		l := c.Limiter(httpsec.Rate{Limit: 1000, Window: 10 * time.Second})
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Go(func() {
				for i := range 50 {
					k := "k" + strconv.Itoa(i%10)
					if _, err := l.Take(context.Background(), k); err != nil {
						t.Errorf("Take: %v", err)
						return
					}
					// Refunds race the first hits of a window: a refund
					// must never leave a key without expiry.
					if (g+i)%3 == 0 {
						if err := l.Refund(context.Background(), k); err != nil {
							t.Errorf("Refund: %v", err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		raw := rawClient(t)
		keys := keysUnder(t, raw, prefix)
		if len(keys) != 10 {
			t.Errorf("%d keys, want 10", len(keys))
		}
		for _, k := range keys {
			if ttl := pttl(t, raw, k); ttl <= 0 || ttl > 10*time.Second {
				t.Errorf("key %s: PTTL %v, want within the window", k, ttl)
			}
		}
	})

	t.Run("exact across instances", func(t *testing.T) {
		t.Parallel()
		const limit, perGoroutine = 100, 5
		prefix := testPrefix(t)
		rate := httpsec.Rate{Limit: limit, Window: time.Minute}
		// Three Clients with their own connection pools stand for three
		// server instances; the generous timeout keeps the race detector
		// from turning slowness into errors.
		var limiters []*Limiter
		for range 3 {
			limiters = append(limiters, openTest(t, prefix, Options{Timeout: 5 * time.Second}).Limiter(rate))
		}
		var allowed, refused atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, l := range limiters {
			for range 20 {
				wg.Go(func() {
					<-start
					for range perGoroutine {
						d, err := l.Take(context.Background(), "shared")
						if err != nil {
							t.Errorf("Take: %v", err)
							return
						}
						if d.Allowed {
							allowed.Add(1)
						} else {
							refused.Add(1)
						}
					}
				})
			}
		}
		close(start)
		wg.Wait()
		if a, r := allowed.Load(), refused.Load(); a != limit || r != 3*20*perGoroutine-limit {
			t.Errorf("allowed %d, refused %d; want exactly %d allowed of %d", a, r, limit, 3*20*perGoroutine)
		}
		wantDecision(t, peek(t, limiters[0], "shared"), false, 0, 50*time.Second, time.Minute)
	})

	t.Run("different rates do not share counts", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		a := c.Limiter(httpsec.Rate{Limit: 2, Window: 10 * time.Second})
		b := c.Limiter(httpsec.Rate{Limit: 5, Window: 10 * time.Second})
		sameLimit := c.Limiter(httpsec.Rate{Limit: 2, Window: 20 * time.Second})
		take(t, a, "k")
		take(t, a, "k")
		wantDecision(t, take(t, a, "k"), false, 0, 9*time.Second, 10*time.Second)
		wantDecision(t, take(t, b, "k"), true, 4, 9*time.Second, 10*time.Second)
		wantDecision(t, take(t, sameLimit, "k"), true, 1, 19*time.Second, 20*time.Second)
		// Equal rates do share: that is how instances agree.
		again := c.Limiter(httpsec.Rate{Limit: 2, Window: 10 * time.Second})
		wantDecision(t, peek(t, again, "k"), false, 0, 9*time.Second, 10*time.Second)
	})

	t.Run("matches MemoryLimiter", func(t *testing.T) {
		t.Parallel()
		rate := httpsec.Rate{Limit: 3, Window: 10 * time.Second}
		mem := httpsec.NewMemoryLimiter(rate, httpsec.MemoryOptions{})
		red := newTestClient(t).Limiter(rate)
		ops := strings.Fields("peek take take peek refund peek take take take take peek refund refund refund refund peek take reset peek take")
		for i, op := range ops {
			var dm, dr httpsec.Decision
			switch op {
			case "take":
				dm, dr = take(t, mem, "k"), take(t, red, "k")
			case "peek":
				dm, dr = peek(t, mem, "k"), peek(t, red, "k")
			case "refund":
				refund(t, mem, "k")
				refund(t, red, "k")
				continue
			case "reset":
				_ = mem.Reset(context.Background(), "k")
				if err := red.Reset(context.Background(), "k"); err != nil {
					t.Fatalf("Reset: %v", err)
				}
				continue
			}
			if dm.Allowed != dr.Allowed || dm.Limit != dr.Limit || dm.Remaining != dr.Remaining ||
				(dm.ResetAfter == 0) != (dr.ResetAfter == 0) {
				t.Errorf("op %d (%s): memory %+v, redis %+v", i, op, dm, dr)
			}
		}
	})

	t.Run("invalid rate panics", func(t *testing.T) {
		t.Parallel()
		for _, r := range []httpsec.Rate{{Limit: 0, Window: time.Second}, {Limit: 1, Window: 0}, {Limit: 1, Window: time.Microsecond}} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("Limiter(%v) did not panic", r)
					}
				}()
				// No server needed: the rate is checked before any call.
				(&Client{}).Limiter(r)
			}()
		}
	})
}

// BenchmarkLimiterTake measures Take against the real server from parallel
// goroutines, spread over 256 keys as distinct clients would be.
func BenchmarkLimiterTake(b *testing.B) {
	c := openTest(b, testPrefix(b), Options{Timeout: 5 * time.Second})
	l := c.Limiter(httpsec.Rate{Limit: 1 << 30, Window: time.Minute})
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := "client-" + strconv.FormatUint(next.Add(1)%256, 10)
			if _, err := l.Take(context.Background(), k); err != nil {
				b.Errorf("Take: %v", err)
				return
			}
		}
	})
}
