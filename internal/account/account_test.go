package account_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/sealed"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

const password = "correct horse battery staple"

// countingHasher is a real argon2id hasher (at test cost) that counts the
// hashes it computes, so a test can see what a sign-in or a registration
// spent without timing it.
type countingHasher struct {
	*auth.Hasher
	verify, dummy, hash atomic.Int64
}

func (h *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.hash.Add(1)
	return h.Hasher.Hash(ctx, pw)
}

func (h *countingHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	h.verify.Add(1)
	return h.Hasher.Verify(ctx, pw, encoded)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, pw string) error {
	h.dummy.Add(1)
	return h.Hasher.VerifyDummy(ctx, pw)
}

// hashes returns and clears the counts of verifications.
func (h *countingHasher) hashes() (verify, dummy int64) {
	return h.verify.Swap(0), h.dummy.Swap(0)
}

// made returns and clears the count of new password hashes (Hash).
func (h *countingHasher) made() int64 { return h.hash.Swap(0) }

type fixture struct {
	svc    *account.Service
	store  blog.Store
	hasher *countingHasher
	logs   *apptest.LogBuffer
	clock  *clock
}

// clock is the fixture's time, moved by the tests: TOTP codes and tokens
// follow it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixtureOrigin is the blog's origin, which its passkeys are bound to.
const fixtureOrigin = "https://blog.example"

// fixtureJWTSecret signs the fixture's tokens.
var fixtureJWTSecret = []byte(apptest.NewSecret())

// newFixture builds the service over a real SQLite store and the real
// in-memory limiter, allowing limit failed sign-ins per client and per
// account.
func newFixture(t *testing.T, limit int) *fixture {
	t.Helper()
	return newFixtureOn(t, limit, openSQLite(t))
}

// openSQLite opens a fresh SQLite store, closed at cleanup.
func openSQLite(t *testing.T) backing {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return backing{store: store, revocations: store, ceremonies: store}
}

// backing is where a fixture keeps its state: a store, and the
// revocations and ceremonies, which are the store's or Redis's.
type backing struct {
	store       blog.Store
	revocations blog.RevocationStore
	ceremonies  blog.SessionStore
}

// newFixtureOn is newFixture on b.
func newFixtureOn(t *testing.T, limit int, b backing) *fixture {
	t.Helper()
	store := b.store
	h := &countingHasher{Hasher: auth.NewHasher(auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0)}
	logs := &apptest.LogBuffer{}
	// Stopped at the start of a TOTP step, so that tests name steps, and
	// near the real time, which invites are made with.
	clk := &clock{t: time.Now().Truncate(30 * time.Second)}
	mfa, err := auth.NewTokens(auth.TokenConfig{Secret: fixtureJWTSecret, Issuer: "https://blog.example", Audience: "palisade-mfa", TTL: 5 * time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealed.New([]byte(apptest.NewSecret()))
	if err != nil {
		t.Fatal(err)
	}
	rp, err := account.NewWebAuthn(fixtureOrigin, "blog.example", "Test Blog")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		svc: &account.Service{
			Store:   store,
			Hasher:  h,
			Limiter: httpsec.NewMemoryLimiter(httpsec.Rate{Limit: limit, Window: 15 * time.Minute}, httpsec.MemoryOptions{Now: clk.Now}),
			Log:     logging.New(logs, slog.LevelDebug, "json"),
			// These tests are about sign-in: anyone may register.
			Registration: account.PolicyOpen,
			Now:          clk.Now,
			Factors:      store,
			Keys:         keys,
			MFATokens:    mfa,
			Revocations:  b.revocations,
			Require2FA:   account.Require2FANone,
			Issuer:       func(context.Context) string { return "Test Blog (blog.example)" },
			WebAuthn:     rp,
			Ceremonies:   b.ceremonies,
		},
		store:  store,
		hasher: h,
		logs:   logs,
		clock:  clk,
	}
}

func (f *fixture) register(t *testing.T, name string) blog.User {
	t.Helper()
	u, err := f.svc.Register(t.Context(), blog.Registration{Username: name, Password: password})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	f.hasher.hashes()
	f.hasher.made()
	return u
}

// TestSignInCostsOneHashWhetherOrNotTheAccountExists: an unknown user, a
// name no account can have, a disabled account and a wrong password each
// cost exactly one password hash, like an honest sign-in; otherwise the
// time taken would tell which accounts exist.
func TestSignInCostsOneHashWhetherOrNotTheAccountExists(t *testing.T) {
	f := newFixture(t, 1000)
	alice := f.register(t, "alice")
	f.register(t, "mallory")
	if err := f.store.DisableUser(t.Context(), f.mustUser(t, "mallory").ID); err != nil {
		t.Fatal(err)
	}

	u, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: "alice", Password: password})
	if err != nil || u.ID != alice.ID {
		t.Fatalf("honest sign-in = %+v, %v", u, err)
	}
	if v, d := f.hasher.hashes(); v+d != 1 {
		t.Fatalf("honest sign-in ran %d verifications and %d dummy hashes, want one hash", v, d)
	}
	for _, tc := range []struct{ name, username, password string }{
		{"WrongPassword", "alice", "a wrong password guess"},
		{"UnknownUser", "nobody", password},
		{"ImpossibleName", "\u212Aelly", password},
		{"DisabledAccount", "mallory", password},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: tc.username, Password: tc.password})
			if !errors.Is(err, account.ErrBadCredentials) {
				t.Fatalf("err = %v, want ErrBadCredentials", err)
			}
			if v, d := f.hasher.hashes(); v+d != 1 {
				t.Fatalf("ran %d verifications and %d dummy hashes, want one hash, as for an honest sign-in", v, d)
			}
		})
	}
}

func (f *fixture) mustUser(t *testing.T, name string) blog.User {
	t.Helper()
	u, err := f.store.UserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSignInLimitsOneClientAcrossAccounts: credential stuffing tries one
// password on each of many accounts, so no account's own limit is reached;
// the client's limit stops it.
func TestSignInLimitsOneClientAcrossAccounts(t *testing.T) {
	const limit = 5
	f := newFixture(t, limit)
	for i := range limit + 2 {
		f.register(t, fmt.Sprintf("user%d", i))
	}
	for i := range limit {
		_, err := f.svc.SignIn(t.Context(), "stuffer", blog.Credentials{Username: fmt.Sprintf("user%d", i), Password: "a leaked password"})
		if !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("guess %d: %v, want ErrBadCredentials", i, err)
		}
	}
	f.hasher.hashes()
	_, err := f.svc.SignIn(t.Context(), "stuffer", blog.Credentials{Username: fmt.Sprintf("user%d", limit), Password: "a leaked password"})
	var throttled *account.ThrottledError
	if !errors.As(err, &throttled) || throttled.RetryAfter <= 0 {
		t.Fatalf("guess at a fresh account after %d failures: %v, want throttled", limit, err)
	}
	if v, d := f.hasher.hashes(); v+d != 0 {
		t.Fatal("a throttled attempt cost a password hash")
	}
	if !strings.Contains(f.logs.String(), `"scope":"client"`) {
		t.Fatalf("throttling not logged with its scope:\n%s", f.logs.String())
	}
	t.Run("OtherClientUnaffected", func(t *testing.T) {
		u, err := f.svc.SignIn(t.Context(), "honest", blog.Credentials{Username: fmt.Sprintf("user%d", limit+1), Password: password})
		if err != nil || u.Username != fmt.Sprintf("user%d", limit+1) {
			t.Fatalf("honest sign-in from another client = %+v, %v", u, err)
		}
	})
}

// TestFailedSignInLogsOnlyAccountNames: people type their password into
// the username field; a failed sign-in logs the name only when it is an
// existing account's.
func TestFailedSignInLogsOnlyAccountNames(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "Alice")
	typedPassword := "Tr0ub4dor_and_3"
	_, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: typedPassword, Password: "the real password"})
	if !errors.Is(err, account.ErrBadCredentials) {
		t.Fatal(err)
	}
	_, err = f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: "not a name: " + typedPassword, Password: "x"})
	if !errors.Is(err, account.ErrBadCredentials) {
		t.Fatal(err)
	}
	logs := f.logs.String()
	if strings.Contains(logs, typedPassword) {
		t.Fatalf("a username that names no account was logged:\n%s", logs)
	}
	if n := strings.Count(logs, `"event":"login.failure"`); n != 2 {
		t.Fatalf("%d login.failure events, want 2:\n%s", n, logs)
	}

	t.Run("KnownAccountNamed", func(t *testing.T) {
		_, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: "ALICE", Password: "a wrong password guess"})
		if !errors.Is(err, account.ErrBadCredentials) {
			t.Fatal(err)
		}
		logs := f.logs.String()
		if !strings.Contains(logs, `"username":"Alice"`) || strings.Contains(logs, "ALICE") {
			t.Fatalf("the failure on an existing account should name it as stored:\n%s", logs)
		}
	})
}
