package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// NoSpaceEvery is how often NoSpace logs while writes keep failing.
const NoSpaceEvery = time.Minute

// noSpaceState is the throttle of one logger.
type noSpaceState struct {
	mu         sync.Mutex
	next       time.Time // when the next line may be written
	suppressed int       // failures not logged since the last line
}

// noSpaceByLog holds a throttle per logger (*slog.Logger → *noSpaceState):
// the API and the website share the server's logger, so one full disk is
// one line whichever of them hit it, while test servers, each with a
// logger of its own, don't silence each other.
var noSpaceByLog sync.Map

// NoSpace logs that a write failed because the store is out of disk
// space: at once the first time, then at most once every NoSpaceEvery
// with how many more failed meanwhile, so that a storm of requests
// against a full disk is one line a minute for the operator, not one per
// request.
func NoSpace(ctx context.Context, log *slog.Logger, requestID string, err error) {
	v, _ := noSpaceByLog.LoadOrStore(log, &noSpaceState{})
	st := v.(*noSpaceState)
	st.mu.Lock()
	now := time.Now()
	if now.Before(st.next) {
		st.suppressed++
		st.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.suppressed = 0
	st.next = now.Add(NoSpaceEvery)
	st.mu.Unlock()
	log.LogAttrs(ctx, slog.LevelError, "storage full: writes fail until space is freed",
		slog.String("requestId", requestID), slog.Int("alsoFailedSinceLastLine", suppressed), slog.Any("error", err))
}
