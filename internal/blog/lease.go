package blog

import (
	"context"
	"time"
)

// LeaseStore holds leases: named locks, each held by one holder until it
// gives it up or its time runs out, that instances sharing the store take
// in turn for work only one of them should do at a time (a scheduled
// backup). A holder that dies holds its lease no longer than its ttl.
type LeaseStore interface {
	// TryLease takes the lease name for holder for ttl from now if no one
	// holds it, its time has run out, or holder holds it already (which
	// extends it). It reports whether holder holds it now; false, with no
	// error, means another holder does. Names and holders are short
	// strings of our own making; ttl must be positive (EINVALID).
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives up the lease name if holder holds it, and does
	// nothing otherwise.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ErrInvalidLease is TryLease's answer for an empty name or holder, or a
// ttl that is not positive.
var ErrInvalidLease = Errorf(EINVALID, "A lease needs a name, a holder and a positive duration")

// ValidLease checks TryLease's arguments.
func ValidLease(name, holder string, ttl time.Duration) error {
	if name == "" || holder == "" || ttl <= 0 {
		return ErrInvalidLease
	}
	return nil
}
