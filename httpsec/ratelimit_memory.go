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

// evictSample is how many keys are looked at to pick the one to forget when
// a shard is full: enough that the least recently seen of them is nearly
// always among the least recently seen of the shard, few enough to be cheap.
const evictSample = 8

// MemoryOptions configures NewMemoryLimiter.
type MemoryOptions struct {
	// MaxKeys bounds how many keys are tracked at once; 0 → 1<<20. It is
	// shared evenly among the shards, so the real bound is MaxKeys rounded
	// up to a multiple of 32.
	MaxKeys int
	Now     func() time.Time // clock for tests; nil → time.Now
}

// memEntry is one key's window. It is kept small on purpose (16 bytes) since
// there is one per tracked client; seen fits in what would be padding.
type memEntry struct {
	start int64  // window start, nanoseconds since the limiter's epoch
	count uint32 // hits in the window, saturating
	seen  uint32 // the shard's tick at the key's last hit, to find the least recently seen
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
	// tick counts hits in the shard; an entry's age is tick-seen, which
	// stays right across wrap-around since unsigned subtraction is modular.
	tick uint32
	_    [28]byte // pads the shard to a cache line so shards don't false-share
}

// rotate advances the generations when at least a window has passed since
// the last rotation. Every entry in prev was last hit before cur began, so
// by the time cur is a window old all of prev's windows have ended and prev
// can go. If two windows have passed, cur's entries have ended too.
// The caller holds s.mu.
func (s *memShard) rotate(now, window int64) {
	age := now - s.genStart
	if age < window {
		return
	}
	if age/window >= 2 {
		s.prev = nil
	} else {
		s.prev = s.cur
	}
	// A fresh map rather than clear(): clear keeps the old capacity, and
	// the point is to give memory back after a flood.
	s.cur = make(map[string]memEntry)
	s.genStart = now
}

// evict forgets the least recently seen of a few keys, making room for a
// new one. Keys in prev go first: none of them was seen since cur began, so
// each is older than every key in cur. Within a generation, ranging over a
// map starts at a random place, which makes the first few keys a random
// sample. The caller holds s.mu.
func (s *memShard) evict() {
	m := s.prev
	if len(m) == 0 {
		m = s.cur
	}
	var (
		victim string
		oldest uint32
		n      int
	)
	for k, e := range m {
		if age := s.tick - e.seen; n == 0 || age > oldest {
			victim, oldest = k, age
		}
		if n++; n == evictSample {
			break
		}
	}
	if n > 0 {
		delete(m, victim)
	}
}

func (s *memShard) len() int { return len(s.cur) + len(s.prev) }

// MemoryLimiter is an in-memory fixed-window Limiter, like express-rate-limit's
// memory store: a key's window starts at its first hit and lasts Rate.Window;
// after it ends the count starts again.
//
// Memory is bounded. Keys live in two generations rotated every window, so a
// key that stops sending is forgotten within two windows and memory returns
// to baseline after a flood without a background goroutine: rotation happens
// lazily on the next call. Keys are sharded by hash over independently locked
// shards so concurrent requests rarely contend, and each shard tracks at most
// its share of MaxKeys. A new key arriving at a full shard makes room by
// forgetting the least recently seen key there (approximately: the oldest of
// a small sample, keys unseen since the last rotation first). Unrelated
// clients are never counted together: a forgotten client merely starts a
// fresh window on its next request, and making the limiter forget a given
// client takes as many other clients as MaxKeys within its window.
//
// The context arguments are ignored: nothing here blocks.
type MemoryLimiter struct {
	limit    int64
	window   int64 // nanoseconds
	perShard int   // keys tracked at most in each shard
	now      func() time.Time
	epoch    time.Time // times are kept as nanoseconds since this instant
	seed     maphash.Seed

	nextSweep atomic.Int64 // when every shard should next be offered a rotation

	shards [memShardCount]memShard
}

// NewMemoryLimiter returns an in-memory limiter allowing rate.Limit hits per
// rate.Window for each key. It panics if rate.Limit < 1 or rate.Window <= 0,
// since such a limiter could never be configured on purpose.
func NewMemoryLimiter(rate Rate, opts MemoryOptions) *MemoryLimiter {
	if rate.Limit < 1 || rate.Window <= 0 {
		panic("httpsec: NewMemoryLimiter: invalid rate " + rate.String())
	}
	maxKeys := opts.MaxKeys
	if maxKeys <= 0 {
		maxKeys = defaultMaxKeys
	}
	l := &MemoryLimiter{
		limit:    int64(rate.Limit),
		window:   int64(rate.Window),
		perShard: (maxKeys + memShardCount - 1) / memShardCount,
		now:      opts.Now,
		seed:     maphash.MakeSeed(),
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
		s.rotate(now, l.window)
		s.mu.Unlock()
	}
}

// tracked returns how many keys are tracked, for tests.
func (l *MemoryLimiter) tracked() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += s.len()
		s.mu.Unlock()
	}
	return n
}

// Take counts one hit for key and reports whether it is within the limit.
func (l *MemoryLimiter) Take(_ context.Context, key string) (Decision, error) {
	now := l.clock()
	l.sweep(now)
	s := l.shard(key)
	s.mu.Lock()
	s.rotate(now, l.window)
	s.tick++
	e, ok := s.cur[key]
	if !ok {
		if e, ok = s.prev[key]; ok {
			delete(s.prev, key)
		} else {
			if s.len() >= l.perShard {
				s.evict()
			}
			// The map outlives the request; copying keeps it from
			// pinning whatever larger buffer the caller's key was
			// sliced from.
			key = strings.Clone(key)
		}
	}
	e.hit(now, l.window)
	e.seen = s.tick
	s.cur[key] = e
	s.mu.Unlock()
	return l.decide(e, now, false), nil
}

// Peek reports the key's state without counting a hit. Allowed says whether
// a Take now would be allowed.
func (l *MemoryLimiter) Peek(_ context.Context, key string) (Decision, error) {
	now := l.clock()
	l.sweep(now)
	s := l.shard(key)
	s.mu.Lock()
	s.rotate(now, l.window)
	e, ok := s.cur[key]
	if !ok {
		e = s.prev[key]
	}
	s.mu.Unlock()
	return l.decide(e, now, true), nil
}

// Reset forgets the key's hits.
func (l *MemoryLimiter) Reset(_ context.Context, key string) error {
	s := l.shard(key)
	s.mu.Lock()
	delete(s.cur, key)
	delete(s.prev, key)
	s.mu.Unlock()
	return nil
}

// Refund gives back one hit counted in the key's current window. A key left
// with no hit, or whose window has ended, is forgotten rather than kept at
// zero: it would take a slot and tell nothing a fresh window wouldn't.
func (l *MemoryLimiter) Refund(_ context.Context, key string) error {
	now := l.clock()
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]memEntry{s.cur, s.prev} {
		e, ok := m[key]
		if !ok {
			continue
		}
		if e.count <= 1 || now-e.start >= l.window {
			delete(m, key)
		} else {
			e.count--
			m[key] = e
		}
		return nil
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
