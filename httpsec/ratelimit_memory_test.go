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

func TestMemoryLimiterOverflow(t *testing.T) {
	const win = time.Minute
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "new keys share the overflow bucket",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "b", want: allowed(2, win)},
				{op: "take", key: "c", want: allowed(2, win)}, // overflow bucket hit 1
				{op: "take", key: "d", want: allowed(1, win)}, // hit 2
				{op: "take", key: "e", want: allowed(0, win)}, // hit 3
				{op: "take", key: "c", want: refused(win)},
				{op: "peek", key: "f", want: refused(win)},
			},
		},
		{
			name: "tracked keys are unaffected by a flood",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "b", want: allowed(2, win)},
				{op: "take", key: "x1", want: allowed(2, win)},
				{op: "take", key: "x2", want: allowed(1, win)},
				{op: "take", key: "x3", want: allowed(0, win)},
				{op: "take", key: "x4", want: refused(win)},
				{op: "take", key: "a", want: allowed(1, win)},
				{op: "take", key: "b", want: allowed(1, win)},
			},
		},
		{
			name: "reset does not lift the overflow bucket",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "b", want: allowed(2, win)},
				{op: "take", key: "x1", want: allowed(2, win)},
				{op: "take", key: "x2", want: allowed(1, win)},
				{op: "take", key: "x3", want: allowed(0, win)},
				{op: "reset", key: "x3"},
				{op: "take", key: "x4", want: refused(win)},
			},
		},
		{
			name: "reset frees a slot",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "b", want: allowed(2, win)},
				{op: "take", key: "x1", want: allowed(2, win)},
				{op: "reset", key: "a"},
				{op: "take", key: "x2", want: allowed(2, win)}, // tracked on its own again
				{op: "take", key: "x2", want: allowed(1, win)},
			},
		},
		{
			name: "keys are tracked again after two windows",
			steps: []step{
				{op: "take", key: "a", want: allowed(2, win)},
				{op: "take", key: "b", want: allowed(2, win)},
				{op: "take", key: "x1", want: allowed(2, win)},
				{advance: 2 * win, op: "take", key: "x2", want: allowed(2, win)},
				{op: "take", key: "x3", want: allowed(2, win)},
				{op: "take", key: "x4", want: allowed(2, win)}, // overflow again
				{op: "take", key: "x5", want: allowed(1, win)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := NewMemoryLimiter(Rate{Limit: 3, Window: time.Minute}, MemoryOptions{MaxKeys: 2, Now: clock.Now})
			runSteps(t, l, clock, tt.steps)
		})
	}
}

func TestMemoryLimiterRotationForgets(t *testing.T) {
	tests := []struct {
		name        string
		advances    []time.Duration // each followed by one Take on an unrelated key
		wantTracked int64
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
			if got := l.tracked.Load(); got != tt.wantTracked {
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
	if got := l.tracked.Load(); got != int64(n) {
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
	t.Run("GivesBackOneHit", func(t *testing.T) {
		l.Take(ctx, "a")
		l.Take(ctx, "a")
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
		l.Take(ctx, "b")
		l.Refund(ctx, "b")
		l.Refund(ctx, "b")
		l.Take(ctx, "b")
		l.Take(ctx, "b")
		if d, _ := l.Take(ctx, "b"); d.Allowed {
			t.Fatal("extra refunds bought extra hits")
		}
	})
}
