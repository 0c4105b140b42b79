package httpsec

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Rate is N requests per Window.
type Rate struct {
	Limit  int
	Window time.Duration
}

// ParseRate parses "N/duration" such as "100/15m" (Go duration syntax; N>=1;
// window>=1s). Errors say what is wrong.
//
// The one-second floor exists because the rate-limit headers count in whole
// seconds.
func ParseRate(s string) (Rate, error) {
	n, d, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, errors.New("rate " + strconv.Quote(s) + ": want N/duration, such as 100/15m")
	}
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return Rate{}, errors.New("rate " + strconv.Quote(s) + ": request count " + strconv.Quote(n) + " is not a whole number")
	}
	if limit < 1 {
		return Rate{}, errors.New("rate " + strconv.Quote(s) + ": request count must be at least 1")
	}
	window, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil {
		return Rate{}, errors.New("rate " + strconv.Quote(s) + ": window " + strconv.Quote(d) + " is not a Go duration such as 15m or 1h")
	}
	if window < time.Second {
		return Rate{}, errors.New("rate " + strconv.Quote(s) + ": window must be at least 1s")
	}
	return Rate{Limit: limit, Window: window}, nil
}

// String formats r as ParseRate accepts it, for example "100/15m0s".
func (r Rate) String() string {
	return strconv.Itoa(r.Limit) + "/" + r.Window.String()
}

// Decision is the outcome of counting a request.
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int           // never negative
	ResetAfter time.Duration // until the key's window ends (>=0)
}

// Limiter counts hits per key in fixed windows. Implementations: in memory
// (here), Redis (later, elsewhere). Keys are opaque strings chosen by the
// caller.
type Limiter interface {
	// Take counts one hit for key and reports whether it is within the limit.
	Take(ctx context.Context, key string) (Decision, error)
	// Peek reports the key's state without counting a hit. Its Allowed field
	// says whether a Take now would be allowed; ResetAfter is 0 when the key
	// has no window running.
	Peek(ctx context.Context, key string) (Decision, error)
	// Reset forgets the key's hits.
	Reset(ctx context.Context, key string) error
	// Refund gives back one hit that Take counted in the key's current
	// window (a no-op when there is none). It lets a caller count an
	// attempt before doing slow work, so parallel requests can't all slip
	// under the limit, and return it when the attempt turns out not to
	// count (a successful sign-in).
	Refund(ctx context.Context, key string) error
}
