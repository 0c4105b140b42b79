package httpsec

import (
	"context"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// step is one action in a limiter scenario.
type step struct {
	advance time.Duration // applied before the action
	op      string        // "take", "peek" or "reset"
	key     string
	want    Decision // checked for take and peek
}

func allowed(remaining int, reset time.Duration) Decision {
	return Decision{Allowed: true, Limit: 3, Remaining: remaining, ResetAfter: reset}
}

func refused(reset time.Duration) Decision {
	return Decision{Allowed: false, Limit: 3, Remaining: 0, ResetAfter: reset}
}

func runSteps(t *testing.T, l *MemoryLimiter, clock *fakeClock, steps []step) {
	t.Helper()
	ctx := context.Background()
	for i, s := range steps {
		clock.Advance(s.advance)
		var (
			got Decision
			err error
		)
		switch s.op {
		case "take":
			got, err = l.Take(ctx, s.key)
		case "peek":
			got, err = l.Peek(ctx, s.key)
		case "reset":
			if err := l.Reset(ctx, s.key); err != nil {
				t.Fatalf("step %d: Reset: %v", i, err)
			}
			continue
		default:
			t.Fatalf("step %d: unknown op %q", i, s.op)
		}
		if err != nil {
			t.Fatalf("step %d: %s: %v", i, s.op, err)
		}
		if got != s.want {
			t.Errorf("step %d (%s %q after +%v): got %+v, want %+v", i, s.op, s.key, s.advance, got, s.want)
		}
	}
}

func TestMemoryLimiter(t *testing.T) {
	const win = time.Minute
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "hit after the limit is refused",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "a", want: allowed(1, win)},
				{op: "take", key: "a", want: allowed(0, win)},
				{op: "take", key: "a", want: refused(win)},
				{op: "take", key: "a", want: refused(win)},
			},
		},
		{
			name: "allowed again after the window",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "a", want: allowed(1, win)},
				{op: "take", key: "a", want: allowed(0, win)},
				{advance: 59 * time.Second, op: "take", key: "a", want: refused(time.Second)},
				{advance: time.Second, op: "take", key: "a", want: allowed(2, win)},
			},
		},
		{
			name: "window starts at the first hit",
			steps: []step{
				{advance: 10 * time.Second, op: "take", key: "a", want: allowed(2, win)},
				{advance: 45 * time.Second, op: "take", key: "a", want: allowed(1, 15*time.Second)},
				{advance: 14 * time.Second, op: "take", key: "a", want: allowed(0, time.Second)},
				{advance: time.Second, op: "take", key: "a", want: allowed(2, win)},
			},
		},
		{
			name: "window spans a rotation",
			steps: []step{
				{advance: 30 * time.Second, op: "take", key: "a", want: allowed(2, win)},
				{advance: 40 * time.Second, op: "take", key: "b", want: allowed(2, win)}, // the sweep rotates: a moves to prev
				{op: "take", key: "a", want: allowed(1, 20*time.Second)},
				{op: "peek", key: "a", want: allowed(1, 20*time.Second)},
				{advance: 20 * time.Second, op: "take", key: "a", want: allowed(2, win)}, // a's window ended at 90s
			},
		},
		{
			name: "peek does not count",
			steps: []step{
				{op: "peek", key: "a", want: allowed(3, 0)},
				{op: "peek", key: "a", want: allowed(3, 0)},
				{op: "take", key: "a", want: allowed(2, win)},
				{advance: 5 * time.Second, op: "peek", key: "a", want: allowed(2, 55*time.Second)},
				{op: "take", key: "a", want: allowed(1, 55*time.Second)},
				{op: "take", key: "a", want: allowed(0, 55*time.Second)},
				{op: "peek", key: "a", want: refused(55 * time.Second)},
				{op: "peek", key: "a", want: refused(55 * time.Second)},
			},
		},
		{
			name: "reset forgets hits",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "a", want: allowed(1, win)},
				{op: "take", key: "a", want: allowed(0, win)},
				{op: "take", key: "a", want: refused(win)},
				{advance: time.Second, op: "reset", key: "a"},
				{op: "peek", key: "a", want: allowed(3, 0)},
				{op: "take", key: "a", want: allowed(2, win)},
			},
		},
		{
			name: "reset of unknown key is harmless",
			steps: []step{
				{op: "reset", key: "nobody"},
				{op: "take", key: "nobody", want: allowed(2, win)},
			},
		},
		{
			name: "keys are independent",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "a", want: allowed(1, win)},
				{op: "take", key: "a", want: allowed(0, win)},
				{op: "take", key: "a", want: refused(win)},
				{advance: time.Second, op: "take", key: "b", want: allowed(2, win)},
				{op: "take", key: "a", want: refused(59 * time.Second)},
				{op: "reset", key: "b"},
				{op: "take", key: "a", want: refused(59 * time.Second)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := NewMemoryLimiter(Rate{Limit: 3, Window: time.Minute}, MemoryOptions{Now: clock.Now})
			runSteps(t, l, clock, tt.steps)
		})
	}
}

// sameShardKeys returns n distinct keys that l files in one shard, so a
// test can fill that shard exactly.
func sameShardKeys(l *MemoryLimiter, n int) []string {
	var keys []string
	want := l.shard("k0")
	for i := 0; len(keys) < n; i++ {
		if k := "k" + strconv.Itoa(i); l.shard(k) == want {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestMemoryLimiterFullNeverMerges: a limiter holding its maximum number of
// keys still counts every client on its own. An attacker who fills it (one
// request each from many addresses) must not make later clients share one
// budget: for sign-in that would be 5 attempts per window for everyone.
func TestMemoryLimiterFullNeverMerges(t *testing.T) {
	const maxKeys = 64
	clock := newFakeClock()
	l := NewMemoryLimiter(Rate{Limit: 3, Window: time.Minute}, MemoryOptions{MaxKeys: maxKeys, Now: clock.Now})
	ctx := context.Background()
	for i := range 10 * maxKeys {
		if _, err := l.Take(ctx, "flood"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.tracked(); n > maxKeys {
		t.Fatalf("%d keys tracked, bound is %d", n, maxKeys)
	}
	for _, k := range []string{"alice", "bob", "carol", "dave"} {
		for want := 2; want >= 0; want-- {
			if d, err := l.Take(ctx, k); err != nil || d != allowed(want, time.Minute) {
				t.Fatalf("%s after the flood: got %+v, %v; want %+v", k, d, err, allowed(want, time.Minute))
			}
		}
		if d, err := l.Take(ctx, k); err != nil || d != refused(time.Minute) {
			t.Fatalf("%s over the limit: got %+v, %v; want refused", k, d, err)
		}
	}
	if n := l.tracked(); n > maxKeys {
		t.Fatalf("%d keys tracked, bound is %d", n, maxKeys)
	}
}

// TestMemoryLimiterEvictsLeastRecentlySeen: a new key arriving at a full
// shard pushes out the key seen longest ago, not one still in use.
func TestMemoryLimiterEvictsLeastRecentlySeen(t *testing.T) {
	const win = time.Minute
	fresh := Decision{Allowed: true, Limit: 3, Remaining: 3}
	tests := []struct {
		name  string
		steps func(k []string) []step
	}{
		{
			name: "within a generation",
			steps: func(k []string) []step {
				return []step{
					{op: "take", key: k[0], want: allowed(2, win)},
					{op: "take", key: k[1], want: allowed(2, win)},
					{op: "take", key: k[0], want: allowed(1, win)},
					{op: "take", key: k[2], want: allowed(2, win)}, // k[1] goes
					{op: "peek", key: k[0], want: allowed(1, win)},
					{op: "peek", key: k[1], want: fresh},
					{op: "peek", key: k[2], want: allowed(2, win)},
				}
			},
		},
		{
			name: "keys unseen since the last rotation go first",
			steps: func(k []string) []step {
				return []step{
					{op: "take", key: k[0], want: allowed(2, win)},
					{advance: 50 * time.Second, op: "take", key: k[1], want: allowed(2, win)},
					{advance: 15 * time.Second, op: "take", key: k[1], want: allowed(1, 45*time.Second)}, // rotates
					{op: "take", key: k[2], want: allowed(2, win)},                                       // k[0] goes
					{op: "peek", key: k[0], want: fresh},
					{op: "peek", key: k[1], want: allowed(1, 45*time.Second)},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			// 64 keys over 32 shards: two per shard.
			l := NewMemoryLimiter(Rate{Limit: 3, Window: win}, MemoryOptions{MaxKeys: 64, Now: clock.Now})
			runSteps(t, l, clock, tt.steps(sameShardKeys(l, 3)))
			if n := l.shard("k0").len(); n != 2 {
				t.Errorf("shard holds %d keys, want 2", n)
			}
		})
	}
}

func TestMemoryLimiterRotationForgets(t *testing.T) {
	tests := []struct {
		name        string
		advances    []time.Duration // each followed by one Take on an unrelated key
		wantTracked int
	}{
		{name: "within the window", advances: []time.Duration{30 * time.Second}, wantTracked: 101},
		{name: "one window keeps previous generation", advances: []time.Duration{time.Minute}, wantTracked: 101},
		{name: "two rotations drop the keys", advances: []time.Duration{time.Minute, time.Minute}, wantTracked: 2},
		{name: "long idle drops everything at once", advances: []time.Duration{5 * time.Minute}, wantTracked: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := NewMemoryLimiter(Rate{Limit: 3, Window: time.Minute}, MemoryOptions{Now: clock.Now})
			ctx := context.Background()
			for i := range 100 {
				if _, err := l.Take(ctx, "k"+strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
			}
			for i, d := range tt.advances {
				clock.Advance(d)
				if _, err := l.Take(ctx, "probe"+strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
			}
			if got := l.tracked(); got != tt.wantTracked {
				t.Errorf("tracked = %d, want %d", got, tt.wantTracked)
			}
		})
	}
}

func TestMemoryLimiterConcurrentTake(t *testing.T) {
	tests := []struct {
		name       string
		goroutines int
		perG       int
		keys       int
		limit      int
	}{
		{name: "one hot key", goroutines: 32, perG: 500, keys: 1, limit: 10000},
		{name: "many keys", goroutines: 64, perG: 400, keys: 50, limit: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := NewMemoryLimiter(Rate{Limit: tt.limit, Window: time.Hour}, MemoryOptions{Now: clock.Now})
			ctx := context.Background()
			keys := make([]string, tt.keys)
			for i := range keys {
				keys[i] = "key" + strconv.Itoa(i)
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				granted = map[string]int{}
			)
			for g := range tt.goroutines {
				wg.Go(func() {
					mine := map[string]int{}
					for i := range tt.perG {
						k := keys[(g+i)%len(keys)]
						d, err := l.Take(ctx, k)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							mine[k]++
						}
					}
					mu.Lock()
					for k, n := range mine {
						granted[k] += n
					}
					mu.Unlock()
				})
			}
			wg.Wait()
			hitsPerKey := tt.goroutines * tt.perG / tt.keys
			for _, k := range keys {
				if want := min(hitsPerKey, tt.limit); granted[k] != want {
					t.Errorf("%s: %d allowed, want %d", k, granted[k], want)
				}
				d, _ := l.Peek(ctx, k)
				if want := max(0, tt.limit-hitsPerKey); d.Remaining != want {
					t.Errorf("%s: remaining %d, want %d", k, d.Remaining, want)
				}
			}
		})
	}
}

func TestNewMemoryLimiterRejectsBadRate(t *testing.T) {
	tests := []struct {
		name string
		rate Rate
	}{
		{name: "zero limit", rate: Rate{Limit: 0, Window: time.Minute}},
		{name: "zero window", rate: Rate{Limit: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewMemoryLimiter(tt.rate, MemoryOptions{})
		})
	}
}

// ipKey makes a distinct, realistic IPv4 rate key for i.
func ipKey(i int) string {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}

// heapAfterGC returns the live heap size once garbage is collected.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// fillLimiter tracks n distinct keys and reports the heap cost per key and
// the heap left after two windows have passed, relative to the start.
func fillLimiter(tb testing.TB, n int) (perKey float64, retained int64) {
	tb.Helper()
	clock := newFakeClock()
	l := NewMemoryLimiter(Rate{Limit: 100, Window: time.Minute}, MemoryOptions{Now: clock.Now})
	ctx := context.Background()
	before := heapAfterGC()
	for i := range n {
		if _, err := l.Take(ctx, ipKey(i)); err != nil {
			tb.Fatal(err)
		}
	}
	full := heapAfterGC()
	if got := l.tracked(); got != n {
		tb.Fatalf("tracked %d keys, want %d", got, n)
	}
	// Two windows, each followed by a request, rotate the keys out.
	for range 2 {
		clock.Advance(time.Minute)
		if _, err := l.Take(ctx, "probe"); err != nil {
			tb.Fatal(err)
		}
	}
	after := heapAfterGC()
	runtime.KeepAlive(l)
	return float64(int64(full)-int64(before)) / float64(n), int64(after) - int64(before)
}

func TestMemoryLimiterBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a few tens of megabytes")
	}
	tests := []struct {
		name      string
		keys      int
		maxPerKey float64
	}{
		{name: "200k clients", keys: 200_000, maxPerKey: 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perKey, retained := fillLimiter(t, tt.keys)
			t.Logf("%.1f B/key, %d B retained after two windows", perKey, retained)
			if perKey > tt.maxPerKey {
				t.Errorf("%.1f bytes per key, want <= %v", perKey, tt.maxPerKey)
			}
			// Baseline is a few empty maps; allow slack for runtime noise.
			if limit := int64(tt.keys) * 2; retained > limit {
				t.Errorf("%d bytes retained after two windows, want <= %d", retained, limit)
			}
		})
	}
}

func BenchmarkMemoryLimiterTake(b *testing.B) {
	l := NewMemoryLimiter(Rate{Limit: 1 << 30, Window: time.Hour}, MemoryOptions{})
	ctx := context.Background()
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = ipKey(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Take(ctx, keys[i&(len(keys)-1)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkMemoryLimiterTakeFull: every hit is a new client at a full
// limiter, so each one evicts (the cost of a flood of distinct addresses).
func BenchmarkMemoryLimiterTakeFull(b *testing.B) {
	l := NewMemoryLimiter(Rate{Limit: 1 << 30, Window: time.Hour}, MemoryOptions{MaxKeys: 4096})
	ctx := context.Background()
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = ipKey(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Take(ctx, keys[i&(len(keys)-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkMemoryLimiterMillionKeys(b *testing.B) {
	const n = 1_000_000
	var perKey float64
	var retained int64
	for b.Loop() {
		perKey, retained = fillLimiter(b, n)
	}
	b.ReportMetric(perKey, "B/key")
	b.ReportMetric(float64(retained), "B-retained-after-2-windows")
}

func TestMemoryLimiterRefund(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	l := NewMemoryLimiter(Rate{Limit: 2, Window: time.Minute}, MemoryOptions{Now: func() time.Time { return now }})
	take := func(t *testing.T, key string) {
		t.Helper()
		if _, err := l.Take(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	refund := func(t *testing.T, key string) {
		t.Helper()
		if err := l.Refund(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("GivesBackOneHit", func(t *testing.T) {
		take(t, "a")
		take(t, "a")
		if d, _ := l.Peek(ctx, "a"); d.Allowed {
			t.Fatal("limit not reached after two takes")
		}
		if err := l.Refund(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if d, _ := l.Take(ctx, "a"); !d.Allowed {
			t.Fatal("refunded hit not given back")
		}
		if d, _ := l.Take(ctx, "a"); d.Allowed {
			t.Fatal("refund gave back more than one hit")
		}
	})
	t.Run("UnknownKeyIsNoop", func(t *testing.T) {
		if err := l.Refund(ctx, "never-seen"); err != nil {
			t.Fatal(err)
		}
		if d, _ := l.Peek(ctx, "never-seen"); d.Remaining != 2 {
			t.Fatalf("remaining = %d after refunding an unknown key", d.Remaining)
		}
	})
	t.Run("NeverBelowZero", func(t *testing.T) {
		take(t, "b")
		refund(t, "b")
		refund(t, "b")
		take(t, "b")
		take(t, "b")
		if d, _ := l.Take(ctx, "b"); d.Allowed {
			t.Fatal("extra refunds bought extra hits")
		}
	})
}

// TestMemoryLimiterRefundForgets: a key refunded back to no hits (a sign-in
// answered 503, say) is dropped, not kept at zero taking a slot; a key with
// hits left keeps them.
func TestMemoryLimiterRefundForgets(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	l := NewMemoryLimiter(Rate{Limit: 3, Window: time.Minute}, MemoryOptions{Now: clock.Now})
	for _, k := range []string{"once", "twice", "twice", "stale"} {
		if _, err := l.Take(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"once", "twice"} {
		if err := l.Refund(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.tracked(); n != 2 {
		t.Fatalf("%d keys tracked after refunding one to zero, want 2", n)
	}
	if d, _ := l.Peek(ctx, "twice"); d != allowed(2, time.Minute) {
		t.Fatalf("twice: %+v, want one hit left", d)
	}
	clock.Advance(time.Minute)
	if err := l.Refund(ctx, "stale"); err != nil {
		t.Fatal(err)
	}
	if n := l.tracked(); n != 1 {
		t.Fatalf("%d keys tracked after refunding an ended window, want 1", n)
	}
}
