package account_test

import (
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
	"github.com/palisade-blog/palisade/internal/postgres"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
	"github.com/palisade-blog/palisade/internal/redis"
)

// forEachBacking runs f on SQLite, PostgreSQL, MongoDB and PostgreSQL with
// revocations and ceremonies in Redis (as instances sharing one Redis keep
// them); the last three skip unless their PALISADE_TEST_…_URL is set.
func forEachBacking(t *testing.T, f func(t *testing.T, b backing)) {
	t.Run("SQLite", func(t *testing.T) { f(t, openSQLite(t)) })
	t.Run("Postgres", func(t *testing.T) { f(t, openPostgres(t)) })
	t.Run("MongoDB", func(t *testing.T) {
		s, err := mongo.Open(t.Context(), mongotest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		f(t, backing{store: s, revocations: s, ceremonies: s})
	})
	t.Run("Postgres+Redis", func(t *testing.T) {
		b := openPostgres(t)
		u := os.Getenv("PALISADE_TEST_REDIS_URL")
		if u == "" {
			t.Skip("skipped: PALISADE_TEST_REDIS_URL is not set")
		}
		c, err := redis.Open(t.Context(), u, redis.Options{Prefix: apptest.RedisPrefix(t, u)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		b.revocations, b.ceremonies = c.Revocations(), c.Sessions()
		f(t, b)
	})
}

func openPostgres(t *testing.T) backing {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return backing{store: s, revocations: s, ceremonies: s}
}

// race runs finish from n goroutines at once and returns how many signed
// in; any error other than the ones a loser may get fails the test.
func race(t *testing.T, n int, finish func(i int) (blog.User, error)) int {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		signedIn int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := finish(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				signedIn++
			case errors.Is(err, account.ErrSignInExpired), errors.Is(err, account.ErrCeremonyExpired):
			default:
				t.Errorf("finish %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return signedIn
}

// TestMFATokenSignsInOnce: one mfaToken sent with eight different valid
// recovery codes at once signs in once, and the other seven are told the
// sign-in expired. Checking the token unused and then revoking it let two
// through; the token is now claimed in one atomic step.
func TestMFATokenSignsInOnce(t *testing.T) {
	forEachBacking(t, func(t *testing.T, b backing) {
		f := newFixtureOn(t, 1000, b)
		e := f.enrol(t, "alice")
		for round := range 3 {
			codes := e.recovery[:8]
			if round > 0 {
				// Seven of the first eight are still unused, but a fresh
				// set makes every racer's code valid.
				codes = f.freshCodes(t, e)
			}
			mfa := f.startSignIn(t, e)
			got := race(t, len(codes), func(i int) (blog.User, error) {
				return f.svc.FinishSecondFactor(t.Context(), "client", mfa, codes[i])
			})
			if got != 1 {
				t.Fatalf("round %d: %d sign-ins with one mfaToken, want exactly 1", round, got)
			}
		}
	})
}

// freshCodes gives e's account ten new recovery codes and returns eight.
func (f *fixture) freshCodes(t *testing.T, e enrolled) []string {
	t.Helper()
	codes, err := f.svc.NewRecoveryCodes(t.Context(), f.mustUser(t, e.user.Username))
	if err != nil {
		t.Fatal(err)
	}
	return codes[:8]
}

// syncedAuthenticator holds synced passkeys, whose counter stays at 0:
// the counter check, which would refuse a credential sent twice by a
// counting authenticator, can't stand in for single use there.
func syncedAuthenticator() *apptest.Authenticator {
	a := apptest.NewAuthenticator(fixtureOrigin)
	a.Synced = true
	return a
}

// TestPasskeySecondFactorSignsInOnce: eight passkey second steps finished
// at once with one mfaToken (each with a ceremony of its own, signed by
// the account's synced passkey) sign in once.
func TestPasskeySecondFactorSignsInOnce(t *testing.T) {
	forEachBacking(t, func(t *testing.T, b backing) {
		f := newFixtureOn(t, 1000, b)
		e := f.enrol(t, "alice")
		a := syncedAuthenticator()
		f.addPasskey(t, "alice", a)
		for round := range 3 {
			mfa := f.startSignIn(t, e)
			tokens, creds := make([]string, 8), make([][]byte, 8)
			for i := range tokens {
				c, err := f.svc.BeginPasskeySecondFactor(t.Context(), mfa)
				if err != nil {
					t.Fatal(err)
				}
				if creds[i], err = a.Get(c.Options); err != nil {
					t.Fatal(err)
				}
				tokens[i] = c.Token
			}
			got := race(t, len(tokens), func(i int) (blog.User, error) {
				return f.svc.FinishPasskeySecondFactor(t.Context(), "client", mfa, tokens[i], creds[i])
			})
			if got != 1 {
				t.Fatalf("round %d: %d sign-ins with one mfaToken, want exactly 1", round, got)
			}
		}
	})
}

// TestCeremonyTakenOnce: one passkey sign-in ceremony finished eight times
// at once (the same credential of a synced passkey
// sent eight times) signs in once.
func TestCeremonyTakenOnce(t *testing.T) {
	forEachBacking(t, func(t *testing.T, b backing) {
		f := newFixtureOn(t, 1000, b)
		f.register(t, "alice")
		a := syncedAuthenticator()
		f.addPasskey(t, "alice", a)
		for round := range 3 {
			c, err := f.svc.BeginPasskeySignIn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			cred, err := a.Get(c.Options)
			if err != nil {
				t.Fatal(err)
			}
			got := race(t, 8, func(int) (blog.User, error) {
				return f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred)
			})
			if got != 1 {
				t.Fatalf("round %d: %d sign-ins with one ceremony, want exactly 1", round, got)
			}
		}
	})
}
