package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/palisade-blog/palisade/httpsec"
)

var _ httpsec.Limiter = (*Limiter)(nil)

// takeScript counts a hit and starts the window on the first one. Doing
// both in one script matters: with INCR and PEXPIRE as separate commands an
// instance dying (or timing out) between them would leave a counter with
// no expiry, locking that client out for good. A key found without a TTL
// anyway (someone ran PERSIST, or an older deployment) gets one too, for
// the same reason.
//
// KEYS[1] counter; ARGV[1] window in milliseconds. Returns {count, pttl}.
var takeScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
	ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// peekScript reads the count and the time left in one atomic step, so the
// two always describe the same window. Returns {count, pttl}; {0, -2} when
// there is no key.
var peekScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	return {0, -2}
end
return {tonumber(v), redis.call('PTTL', KEYS[1])}
`)

// refundScript gives back one hit: never below zero, never creating a key
// (a refund after the window ended must not start a new one), and keeping
// the TTL, which DECR does.
var refundScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > 0 then
	redis.call('DECR', KEYS[1])
end
return 0
`)

// Limiter is an httpsec.Limiter kept in Redis, so every instance sharing
// the Redis counts against the same limit, exactly. Its semantics match
// httpsec.MemoryLimiter: a fixed window per key that starts at the key's
// first hit and lasts Rate.Window; after it ends the count starts again.
//
// Errors are returned, wrapped; whether to fail open or closed is the
// caller's decision.
type Limiter struct {
	c        *Client
	limit    int64
	windowMS int64
	ns       string // key namespace, naming the rate
}

// Limiter returns a limiter allowing rate.Limit hits per rate.Window for
// each key. Limiters with different rates never share counters, even for
// the same key, since the rate is part of the key's namespace. It panics
// if rate.Limit < 1 or rate.Window < 1ms, as httpsec.NewMemoryLimiter
// does, since such a limiter could never be configured on purpose.
func (c *Client) Limiter(rate httpsec.Rate) *Limiter {
	if rate.Limit < 1 || rate.Window < time.Millisecond {
		panic("redis: Limiter: invalid rate " + rate.String())
	}
	ms := rate.Window.Milliseconds()
	return &Limiter{
		c:        c,
		limit:    int64(rate.Limit),
		windowMS: ms,
		// Limit and window in milliseconds, the precision Redis keeps:
		// "rl:100:900000:".
		ns: "rl:" + strconv.Itoa(rate.Limit) + ":" + strconv.FormatInt(ms, 10) + ":",
	}
}

// Take counts one hit for key and reports whether it is within the limit.
func (l *Limiter) Take(ctx context.Context, key string) (httpsec.Decision, error) {
	ctx, cancel := l.c.bound(ctx)
	defer cancel()
	count, pttl, err := runPair(ctx, l.c, takeScript, l.c.key(l.ns, key), l.windowMS)
	if err != nil {
		return httpsec.Decision{}, l.c.wrap("limiter take", err)
	}
	return l.decide(count, pttl, false), nil
}

// Peek reports the key's state without counting a hit: Allowed says
// whether a Take now would be allowed, and ResetAfter is 0 when no window
// is running.
func (l *Limiter) Peek(ctx context.Context, key string) (httpsec.Decision, error) {
	ctx, cancel := l.c.bound(ctx)
	defer cancel()
	count, pttl, err := runPair(ctx, l.c, peekScript, l.c.key(l.ns, key))
	if err != nil {
		return httpsec.Decision{}, l.c.wrap("limiter peek", err)
	}
	return l.decide(count, pttl, true), nil
}

// Reset forgets the key's hits.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	ctx, cancel := l.c.bound(ctx)
	defer cancel()
	if err := l.c.rdb.Del(ctx, l.c.key(l.ns, key)).Err(); err != nil {
		return l.c.wrap("limiter reset", err)
	}
	return nil
}

// Refund gives back one hit counted in the key's current window; it is a
// no-op when no window is running.
func (l *Limiter) Refund(ctx context.Context, key string) error {
	ctx, cancel := l.c.bound(ctx)
	defer cancel()
	if err := refundScript.Run(ctx, l.c.rdb, []string{l.c.key(l.ns, key)}).Err(); err != nil {
		return l.c.wrap("limiter refund", err)
	}
	return nil
}

// decide turns a count and the key's remaining time into a Decision, as
// MemoryLimiter does. For Take the hit has been counted, so reaching the
// limit itself is still allowed; for Peek the question is whether one more
// hit would be.
func (l *Limiter) decide(count, pttl int64, peek bool) httpsec.Decision {
	d := httpsec.Decision{Allowed: true, Limit: int(l.limit), Remaining: int(l.limit)}
	if count <= 0 {
		return d // no window running (or every hit in it refunded)
	}
	if pttl < 0 {
		// A count without expiry (only possible if something outside this
		// package touched the key): the next Take gives it a full window.
		pttl = l.windowMS
	}
	if peek {
		d.Allowed = count < l.limit
	} else {
		d.Allowed = count <= l.limit
	}
	d.Remaining = int(max(0, l.limit-count))
	// Clamped to the window so nothing odd in Redis can make a client wait
	// longer than the rate promises.
	d.ResetAfter = time.Duration(min(pttl, l.windowMS)) * time.Millisecond
	return d
}

// runPair runs a script that returns {count, pttl}.
func runPair(ctx context.Context, c *Client, s *goredis.Script, key string, args ...any) (count, pttl int64, err error) {
	vals, err := s.Run(ctx, c.rdb, []string{key}, args...).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	if len(vals) != 2 {
		return 0, 0, fmt.Errorf("script returned %d values, want 2", len(vals))
	}
	return vals[0], vals[1], nil
}
