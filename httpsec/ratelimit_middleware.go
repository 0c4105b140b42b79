package httpsec

import (
	"net/http"
	"strconv"
	"time"
)

// Canonical header keys, so the map is written directly (no per-request
// canonicalisation) and Header().Get still finds the values.
const (
	headerRateLimit       = "Ratelimit"
	headerRateLimitPolicy = "Ratelimit-Policy"
	headerRetryAfter      = "Retry-After"
)

// RateLimitOptions configures RateLimit.
type RateLimitOptions struct {
	Limiter Limiter                      // counts the hits; required
	Rate    Rate                         // for the headers; should match the Limiter's rate
	Key     func(r *http.Request) string // client key; required
	// OnLimited writes the 429 response (status and body). The middleware
	// has already set the headers and does not write the status itself, so
	// the body format (JSON or HTML) is the caller's choice. nil writes a
	// plain-text 429.
	OnLimited http.Handler
	// OnError is called when the limiter fails: return true to serve the
	// request anyway (fail open), false if OnError wrote a response (fail
	// closed). nil fails open.
	OnError func(w http.ResponseWriter, r *http.Request, err error) bool
	// Skip exempts a request from counting (health checks polled by a load
	// balancer, say). nil counts every request.
	Skip func(r *http.Request) bool
}

// RateLimit refuses requests beyond opts.Rate per client key. Every response
// it lets through or refuses carries the IETF draft-8 headers, as
// express-rate-limit 8 sends with standardHeaders 'draft-8':
//
//	RateLimit-Policy: "100-in-15min"; q=100; w=900
//	RateLimit: "100-in-15min"; r=<remaining>; t=<seconds until reset>
//
// A refused request also gets Retry-After (whole seconds, at least 1) and is
// handed to opts.OnLimited. If the limiter fails no headers are set and
// opts.OnError decides. RateLimit panics if opts.Limiter or opts.Key is nil,
// since that is a wiring mistake better found at startup.
func RateLimit(opts RateLimitOptions) Middleware {
	if opts.Limiter == nil {
		panic("httpsec: RateLimit: Limiter is required")
	}
	if opts.Key == nil {
		panic("httpsec: RateLimit: Key is required")
	}
	onLimited := opts.OnLimited
	if onLimited == nil {
		onLimited = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		})
	}
	onError := opts.OnError
	if onError == nil {
		onError = func(http.ResponseWriter, *http.Request, error) bool { return true }
	}

	// The policy never changes, so its header is built once. len == cap so
	// a handler's Header().Add copies rather than writing into it.
	name := `"` + PolicyName(opts.Rate) + `"`
	policy := []string{name + "; q=" + strconv.Itoa(opts.Rate.Limit) + "; w=" + strconv.FormatInt(ceilSeconds(opts.Rate.Window), 10)}[:1:1]
	statePrefix := name + "; r="

	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if opts.Skip != nil && opts.Skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			d, err := opts.Limiter.Take(r.Context(), opts.Key(r))
			if err != nil {
				if onError(w, r, err) {
					next.ServeHTTP(w, r)
				}
				return
			}
			h := w.Header()
			h[headerRateLimitPolicy] = policy
			reset := ceilSeconds(d.ResetAfter)
			buf := make([]byte, 0, 64)
			buf = append(buf, statePrefix...)
			buf = strconv.AppendInt(buf, int64(max(0, d.Remaining)), 10)
			buf = append(buf, "; t="...)
			buf = strconv.AppendInt(buf, reset, 10)
			h[headerRateLimit] = []string{string(buf)}
			if d.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			h[headerRetryAfter] = []string{strconv.FormatInt(max(1, reset), 10)}
			onLimited.ServeHTTP(w, r)
		})
	}
}

// ceilSeconds rounds d up to whole seconds, never below zero: headers
// must not tell a client it may retry before the window really ends.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// PolicyName returns the policy name used in the headers, e.g.
// "100-in-15min" (express-rate-limit draft-8 style; seconds → "s",
// minutes → "min", hours → "h"). The largest unit that divides the window
// exactly is used; a window that is not whole seconds is rounded up.
func PolicyName(r Rate) string {
	prefix := strconv.Itoa(r.Limit) + "-in-"
	switch {
	case r.Window > 0 && r.Window%time.Hour == 0:
		return prefix + strconv.FormatInt(int64(r.Window/time.Hour), 10) + "h"
	case r.Window > 0 && r.Window%time.Minute == 0:
		return prefix + strconv.FormatInt(int64(r.Window/time.Minute), 10) + "min"
	default:
		return prefix + strconv.FormatInt(ceilSeconds(r.Window), 10) + "s"
	}
}
