package redis

import (
	"context"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/storetest"
)

// revoked calls TokenRevoked and fails the test on error.
func revoked(t *testing.T, r *RevocationStore, id string) bool {
	t.Helper()
	ok, err := r.TokenRevoked(context.Background(), id)
	if err != nil {
		t.Fatalf("TokenRevoked: %v", err)
	}
	return ok
}

// revoke calls RevokeToken and fails the test on error.
func revoke(t *testing.T, r *RevocationStore, id string, expiresAt time.Time) {
	t.Helper()
	if err := r.RevokeToken(context.Background(), id, expiresAt); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
}

func TestRevocations(t *testing.T) {
	t.Parallel()

	t.Run("revoke then revoked", func(t *testing.T) {
		t.Parallel()
		r := newTestClient(t).Revocations()
		if revoked(t, r, "jti-1") {
			t.Errorf("revoked before RevokeToken")
		}
		revoke(t, r, "jti-1", time.Now().Add(time.Hour))
		revoke(t, r, "jti-1", time.Now().Add(time.Hour)) // twice is fine
		if !revoked(t, r, "jti-1") {
			t.Errorf("not revoked after RevokeToken")
		}
		if revoked(t, r, "jti-2") {
			t.Errorf("another ID revoked")
		}
		if err := r.PruneRevocations(context.Background(), time.Now()); err != nil {
			t.Errorf("PruneRevocations: %v", err)
		}
	})

	t.Run("expired token not stored", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		r := c.Revocations()
		revoke(t, r, "old", time.Now().Add(-time.Second))
		revoke(t, r, "zero", time.Time{})
		if revoked(t, r, "old") {
			t.Errorf("expired token reported revoked")
		}
		if keys := keysUnder(t, rawClient(t), c.prefix); len(keys) != 0 {
			t.Errorf("keys stored for expired tokens: %q", keys)
		}
	})

	t.Run("TTL matches expiry", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		r := c.Revocations()
		revoke(t, r, "jti", time.Now().Add(90*time.Second))
		if ttl := pttl(t, rawClient(t), c.key(revocationNS, "jti")); ttl < 89*time.Second || ttl > 90*time.Second+time.Millisecond {
			t.Errorf("PTTL = %v, want about 90s", ttl)
		}
	})

	t.Run("revoking again never shortens", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		raw := rawClient(t)
		r := c.Revocations()
		key := c.key(revocationNS, "jti")
		revoke(t, r, "jti", time.Now().Add(time.Hour))
		revoke(t, r, "jti", time.Now().Add(2*time.Second))
		if ttl := pttl(t, raw, key); ttl < 59*time.Minute {
			t.Errorf("PTTL after a shorter revoke = %v, want still about 1h", ttl)
		}
		revoke(t, r, "jti", time.Now().Add(2*time.Hour))
		if ttl := pttl(t, raw, key); ttl < 119*time.Minute {
			t.Errorf("PTTL after a longer revoke = %v, want about 2h", ttl)
		}
	})

	t.Run("forgotten when the token expires", func(t *testing.T) {
		t.Parallel()
		r := newTestClient(t).Revocations()
		exp := time.Now().Add(1100 * time.Millisecond)
		revoke(t, r, "jti", exp)
		if !revoked(t, r, "jti") {
			t.Fatalf("not revoked")
		}
		time.Sleep(time.Until(exp) + 100*time.Millisecond)
		if revoked(t, r, "jti") {
			t.Errorf("still revoked after the token expired")
		}
	})

	t.Run("namespaces are separate", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		revoke(t, c.Revocations(), "same", time.Now().Add(time.Minute))
		if _, ok := find(t, c.Sessions(), "same"); ok {
			t.Errorf("a revocation is visible as a session")
		}
		save(t, c.Sessions(), "other", []byte("x"), time.Now().Add(time.Minute))
		if revoked(t, c.Revocations(), "other") {
			t.Errorf("a session is visible as a revocation")
		}
	})
}

// TestClaimToken holds the Redis revocations to the contract every store's
// ClaimToken passes; two clients share the prefix so the concurrent claims
// come from two "instances".
func TestClaimToken(t *testing.T) {
	t.Parallel()
	storetest.ClaimTokenContract(t, newTestClient(t).Revocations())

	t.Run("AcrossInstances", func(t *testing.T) {
		prefix := testPrefix(t)
		a := openTest(t, prefix, Options{}).Revocations()
		b := openTest(t, prefix, Options{}).Revocations()
		expires := time.Now().Add(time.Hour)
		if ok, err := a.ClaimToken(context.Background(), "shared", expires); err != nil || !ok {
			t.Fatalf("first claim = %v, %v", ok, err)
		}
		if ok, err := b.ClaimToken(context.Background(), "shared", expires); err != nil || ok {
			t.Fatalf("claim on the other instance = %v, %v; want false", ok, err)
		}
	})
	t.Run("ExpiredNotClaimed", func(t *testing.T) {
		r := newTestClient(t).Revocations()
		if ok, err := r.ClaimToken(context.Background(), "old", time.Now().Add(-time.Second)); err != nil || ok {
			t.Fatalf("claim of an expired token = %v, %v; want false", ok, err)
		}
	})
}
