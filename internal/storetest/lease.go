package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// testLeases holds a store's leases to blog.LeaseStore: one holder at a
// time, however many ask at once; the holder extends its own; a release
// by anyone else changes nothing; an expired lease goes to the next.
func testLeases(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	take := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.TryLease(ctx, name, holder, ttl)
		if err != nil {
			t.Fatalf("TryLease(%s, %s): %v", name, holder, err)
		}
		return ok
	}

	t.Run("OneHolderAtATime", func(t *testing.T) {
		if !take("backup", "a", time.Hour) {
			t.Fatal("a free lease was refused")
		}
		if take("backup", "b", time.Hour) {
			t.Fatal("a held lease went to another holder")
		}
		if !take("backup", "a", time.Hour) {
			t.Fatal("the holder could not extend its own lease")
		}
		if !take("other", "b", time.Hour) {
			t.Fatal("a lease of another name was refused")
		}
	})
	t.Run("ReleaseByAnotherChangesNothing", func(t *testing.T) {
		if err := s.ReleaseLease(ctx, "backup", "b"); err != nil {
			t.Fatal(err)
		}
		if take("backup", "b", time.Hour) {
			t.Fatal("a release by a non-holder freed the lease")
		}
		if err := s.ReleaseLease(ctx, "backup", "a"); err != nil {
			t.Fatal(err)
		}
		if !take("backup", "b", time.Hour) {
			t.Fatal("a released lease was refused")
		}
		if err := s.ReleaseLease(ctx, "never-taken", "x"); err != nil {
			t.Fatalf("releasing a lease nobody holds: %v", err)
		}
	})
	t.Run("ExpiredGoesToTheNext", func(t *testing.T) {
		if !take("short", "a", time.Millisecond) {
			t.Fatal("a free lease was refused")
		}
		// Not a timing assertion: only waiting until the lease has surely
		// run out, then asking.
		time.Sleep(50 * time.Millisecond)
		if !take("short", "b", time.Hour) {
			t.Fatal("an expired lease was refused")
		}
		if take("short", "a", time.Hour) {
			t.Fatal("the former holder took back a lease that had gone to another")
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, c := range []struct {
			name, holder string
			ttl          time.Duration
		}{{"", "a", time.Hour}, {"x", "", time.Hour}, {"x", "a", 0}, {"x", "a", -time.Second}} {
			_, err := s.TryLease(ctx, c.name, c.holder, c.ttl)
			wantCode(t, err, blog.EINVALID)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		const n = 8
		var won atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.TryLease(ctx, "race", fmt.Sprint("holder", i), time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := won.Load(); got != 1 {
			t.Fatalf("%d holders took one lease at once, want 1", got)
		}
	})
}
