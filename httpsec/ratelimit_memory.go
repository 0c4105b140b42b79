package httpsec

import (
	"context"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// memShardCount spreads keys over independent locks so concurrent requests
// from different clients rarely wait on each other. A power of two, so the
// shard is picked with a mask.
const memShardCount = 32

// defaultMaxKeys bounds memory when MemoryOptions.MaxKeys is unset: about a
// million clients at well under 150 bytes each.
const defaultMaxKeys = 1 << 20

// MemoryOptions configures NewMemoryLimiter.
type MemoryOptions struct {
	MaxKeys int              // at most this many keys tracked at once; 0 → 1<<20
	Now     func() time.Time // clock for tests; nil → time.Now
}

// memEntry is one key's window. It is kept small on purpose (16 bytes) since
// there is one per tracked client.
type memEntry struct {
	start int64  // window start, nanoseconds since the limiter's epoch
	count uint32 // hits in the window, saturating
}

// hit counts one request, starting a fresh window if none is running.
func (e *memEntry) hit(now, window int64) {
	if e.count == 0 || now-e.start >= window {
		e.start, e.count = now, 0
	}
	if e.count < math.MaxUint32 {
		e.count++
	}
}

// memShard holds the keys whose hash falls in it, in two generations: cur
// for keys seen in this rotation period and prev for the period before.
// Rotating drops prev whole, which frees memory without scanning entries.
type memShard struct {
	mu       sync.Mutex
	genStart int64 // when cur became the current generation
	cur      map[string]memEntry
	prev     map[string]memEntry
	_        [32]byte // pads the shard to a cache line so shards don't false-share
}

// rotate advances the generations when at least a window has passed since
// the last rotation. Every entry in prev was last hit before cur began, so
// by the time cur is a window old all of prev's windows have ended and prev
// can go. If two windows have passed, cur's entries have ended too.
// It returns how many keys were forgotten. The caller holds s.mu.
func (s *memShard) rotate(now, window int64) (dropped int) {
	age := now - s.genStart
	if age < window {
		return 0
	}
	dropped = len(s.prev)
	if age/window >= 2 {
		dropped += len(s.cur)
		s.prev = nil
	} else {
		s.prev = s.cur
	}
	// A fresh map rather than clear(): clear keeps the old capacity, and
	// the point is to give memory back after a flood.
	s.cur = make(map[string]memEntry)
	s.genStart = now
	return dropped
}

// MemoryLimiter is an in-memory fixed-window Limiter, like express-rate-limit's
// memory store: a key's window starts at its first hit and lasts Rate.Window;
// after it ends the count starts again.
//
// Memory is bounded. Keys live in two generations rotated every window, so a
// key that stops sending is forgotten within two windows and memory returns
// to baseline after a flood without a background goroutine: rotation happens
// lazily on the next call. At most MaxKeys keys are tracked; once that many
// are, hits from new keys are all counted in one shared overflow bucket with
// the same rate, so a flood of distinct clients is itself rate limited while
// clients already tracked keep their own counts. Keys are sharded by hash over
// independently locked shards so concurrent requests rarely contend.
//
// The context arguments are ignored: nothing here blocks.
type MemoryLimiter struct {
	limit   int64
	window  int64 // nanoseconds
	maxKeys int64
	now     func() time.Time
	epoch   time.Time // times are kept as nanoseconds since this instant
	seed    maphash.Seed

	tracked   atomic.Int64 // keys in all shards, both generations
	nextSweep atomic.Int64 // when every shard should next be offered a rotation

	overflowMu sync.Mutex
	overflow   memEntry

	shards [memShardCount]memShard
}

// NewMemoryLimiter returns an in-memory limiter allowing rate.Limit hits per
// rate.Window for each key. It panics if rate.Limit < 1 or rate.Window <= 0,
// since such a limiter could never be configured on purpose.
func NewMemoryLimiter(rate Rate, opts MemoryOptions) *MemoryLimiter {
	if rate.Limit < 1 || rate.Window <= 0 {
		panic("httpsec: NewMemoryLimiter: invalid rate " + rate.String())
	}
	l := &MemoryLimiter{
		limit:   int64(rate.Limit),
		window:  int64(rate.Window),
		maxKeys: int64(opts.MaxKeys),
		now:     opts.Now,
		seed:    maphash.MakeSeed(),
	}
	if l.maxKeys <= 0 {
		l.maxKeys = defaultMaxKeys
	}
	if l.now == nil {
		l.now = time.Now
	}
	// Measuring from an epoch taken from the same clock keeps time.Now's
	// monotonic reading, so wall-clock jumps don't stretch or cut windows.
	l.epoch = l.now()
	for i := range l.shards {
		l.shards[i].cur = make(map[string]memEntry)
	}
	l.nextSweep.Store(l.window)
	return l
}

func (l *MemoryLimiter) clock() int64 {
	return int64(l.now().Sub(l.epoch))
}

func (l *MemoryLimiter) shard(key string) *memShard {
	return &l.shards[maphash.String(l.seed, key)&(memShardCount-1)]
}

// sweep rotates every shard about once per window. Rotation is otherwise
// lazy per shard, and a shard no request touches would keep its keys (and
// memory) forever.
func (l *MemoryLimiter) sweep(now int64) {
	next := l.nextSweep.Load()
	if now < next || !l.nextSweep.CompareAndSwap(next, now+l.window) {
		return
	}
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		dropped := s.rotate(now, l.window)
		s.mu.Unlock()
		l.tracked.Add(-int64(dropped))
	}
}

// Take counts one hit for key and reports whether it is within the limit.
func (l *MemoryLimiter) Take(_ context.Context, key string) (Decision, error) {
	now := l.clock()
	l.sweep(now)
	s := l.shard(key)
	s.mu.Lock()
	if n := s.rotate(now, l.window); n > 0 {
		l.tracked.Add(-int64(n))
	}
	e, ok := s.cur[key]
	if !ok {
		if e, ok = s.prev[key]; ok {
			delete(s.prev, key)
		} else if l.tracked.Add(1) > l.maxKeys {
			l.tracked.Add(-1)
			s.mu.Unlock()
			return l.takeOverflow(now), nil
		}
		// The map outlives the request; copying keeps it from pinning
		// whatever larger buffer the caller's key was sliced from.
		key = strings.Clone(key)
	}
	e.hit(now, l.window)
	s.cur[key] = e
	s.mu.Unlock()
	return l.decide(e, now, false), nil
}

func (l *MemoryLimiter) takeOverflow(now int64) Decision {
	l.overflowMu.Lock()
	l.overflow.hit(now, l.window)
	e := l.overflow
	l.overflowMu.Unlock()
	return l.decide(e, now, false)
}

// Peek reports the key's state without counting a hit. Allowed says whether
// a Take now would be allowed. A key that is not tracked while the limiter is
// full reports the overflow bucket, since that is where its hits would go.
func (l *MemoryLimiter) Peek(_ context.Context, key string) (Decision, error) {
	now := l.clock()
	l.sweep(now)
	s := l.shard(key)
	s.mu.Lock()
	if n := s.rotate(now, l.window); n > 0 {
		l.tracked.Add(-int64(n))
	}
	e, ok := s.cur[key]
	if !ok {
		e, ok = s.prev[key]
	}
	s.mu.Unlock()
	if !ok && l.tracked.Load() >= l.maxKeys {
		l.overflowMu.Lock()
		e = l.overflow
		l.overflowMu.Unlock()
	}
	return l.decide(e, now, true), nil
}

// Reset forgets the key's hits. It never resets the shared overflow bucket,
// so forgetting one client can't lift the limit on a flood.
func (l *MemoryLimiter) Reset(_ context.Context, key string) error {
	s := l.shard(key)
	s.mu.Lock()
	n := 0
	if _, ok := s.cur[key]; ok {
		delete(s.cur, key)
		n++
	}
	if _, ok := s.prev[key]; ok {
		delete(s.prev, key)
		n++
	}
	s.mu.Unlock()
	l.tracked.Add(-int64(n))
	return nil
}

// Refund gives back one hit counted in the key's current window.
func (l *MemoryLimiter) Refund(_ context.Context, key string) error {
	now := l.clock()
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]memEntry{s.cur, s.prev} {
		if e, ok := m[key]; ok {
			if e.count > 0 && now-e.start < l.window {
				e.count--
				m[key] = e
			}
			return nil
		}
	}
	return nil
}

// decide turns an entry into a Decision. For Take (peek false) the hit has
// already been counted, so the limit itself is still allowed; for Peek the
// question is whether one more hit would be.
func (l *MemoryLimiter) decide(e memEntry, now int64, peek bool) Decision {
	d := Decision{Allowed: true, Limit: int(l.limit), Remaining: int(l.limit)}
	if e.count == 0 || now-e.start >= l.window {
		return d // no window running
	}
	count := int64(e.count)
	if peek {
		d.Allowed = count < l.limit
	} else {
		d.Allowed = count <= l.limit
	}
	d.Remaining = int(max(0, l.limit-count))
	// Clamped so an injected clock running backwards can't report more
	// than one window or a negative wait.
	d.ResetAfter = time.Duration(min(max(0, e.start+l.window-now), l.window))
	return d
}
