package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// racers is how many goroutines race for one token or session: enough
// that a check-then-act store lets two through on most runs.
const racers = 8

// ClaimTokenContract holds a blog.RevocationStore to ClaimToken's
// contract: the first claim wins, later ones lose, of concurrent claims
// exactly one wins, and a claimed ID is revoked. Run calls it for the
// database stores; the Redis revocation store's tests call it too.
func ClaimTokenContract(t *testing.T, s blog.RevocationStore) {
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	t.Run("FirstWinsSecondLoses", func(t *testing.T) {
		if got := mustClaim(t, s, "claim-1", expires); !got {
			t.Fatal("first claim = false")
		}
		if got := mustClaim(t, s, "claim-1", expires); got {
			t.Fatal("second claim of the same ID = true")
		}
		if revoked, err := s.TokenRevoked(ctx, "claim-1"); err != nil || !revoked {
			t.Fatalf("claimed ID revoked = %v, %v", revoked, err)
		}
		if revoked, err := s.TokenRevoked(ctx, "claim-2"); err != nil || revoked {
			t.Fatalf("another ID revoked = %v, %v", revoked, err)
		}
	})
	t.Run("RevokedCannotBeClaimed", func(t *testing.T) {
		if err := s.RevokeToken(ctx, "claim-revoked", expires); err != nil {
			t.Fatal(err)
		}
		if got := mustClaim(t, s, "claim-revoked", expires); got {
			t.Fatal("claim of a revoked ID = true")
		}
	})
	t.Run("ConcurrentExactlyOne", func(t *testing.T) {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  int
			errs []error
		)
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				ok, err := s.ClaimToken(ctx, "claim-race", expires)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if ok {
					won++
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent claims failed: %v", errs)
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent claims won, want exactly 1", won, racers)
		}
		if revoked, err := s.TokenRevoked(ctx, "claim-race"); err != nil || !revoked {
			t.Fatalf("claimed ID revoked = %v, %v", revoked, err)
		}
	})
}

func mustClaim(t *testing.T, s blog.RevocationStore, id string, expires time.Time) bool {
	t.Helper()
	ok, err := s.ClaimToken(context.Background(), id, expires)
	if err != nil {
		t.Fatalf("claim %q: %v", id, err)
	}
	return ok
}

// TakeSessionContract holds a blog.SessionStore to TakeSession's contract:
// it returns the data and deletes the session, a missing or expired one
// is not found, and of concurrent takes exactly one gets the data. Run
// calls it for the database stores; the Redis session store's tests call
// it too.
func TakeSessionContract(t *testing.T, s blog.SessionStore) {
	ctx := context.Background()
	now := time.Now()
	save := func(t *testing.T, key string, data []byte, expiry time.Time) {
		t.Helper()
		if err := s.SaveSession(ctx, key, data, expiry); err != nil {
			t.Fatalf("save session %q: %v", key, err)
		}
	}
	take := func(t *testing.T, key string) ([]byte, bool) {
		t.Helper()
		data, found, err := s.TakeSession(ctx, key)
		if err != nil {
			t.Fatalf("take session %q: %v", key, err)
		}
		return data, found
	}
	t.Run("TakeThenGone", func(t *testing.T) {
		data := []byte{0, 1, 2, 255, '\'', '"'}
		save(t, "take-1", data, now.Add(time.Hour))
		save(t, "take-other", []byte("other"), now.Add(time.Hour))
		if got, found := take(t, "take-1"); !found || string(got) != string(data) {
			t.Fatalf("take = %v, %v; want the saved data", got, found)
		}
		if _, found := take(t, "take-1"); found {
			t.Fatal("taken twice")
		}
		if _, found, err := s.FindSession(ctx, "take-1"); err != nil || found {
			t.Fatalf("taken session still found = %v, %v", found, err)
		}
		if got, found, err := s.FindSession(ctx, "take-other"); err != nil || !found || string(got) != "other" {
			t.Fatalf("another session = %q, %v, %v", got, found, err)
		}
	})
	t.Run("MissingNotFound", func(t *testing.T) {
		if _, found := take(t, "take-missing"); found {
			t.Fatal("missing session taken")
		}
	})
	t.Run("ExpiredNotFound", func(t *testing.T) {
		save(t, "take-old", []byte("x"), now.Add(-time.Second))
		if _, found := take(t, "take-old"); found {
			t.Fatal("expired session taken")
		}
	})
	t.Run("ConcurrentExactlyOne", func(t *testing.T) {
		for round := range 3 {
			key := fmt.Sprint("take-race-", round)
			save(t, key, []byte("once"), now.Add(time.Hour))
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				got  int
				errs []error
			)
			start := make(chan struct{})
			for range racers {
				wg.Go(func() {
					<-start
					data, found, err := s.TakeSession(ctx, key)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					if found && string(data) == "once" {
						got++
					}
				})
			}
			close(start)
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("concurrent takes failed: %v", errs)
			}
			if got != 1 {
				t.Fatalf("%d of %d concurrent takes got the session, want exactly 1", got, racers)
			}
		}
	})
}
