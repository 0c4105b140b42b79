package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/storetest"
)

// find calls FindSession and fails the test on error.
func find(t *testing.T, s *SessionStore, key string) ([]byte, bool) {
	t.Helper()
	data, ok, err := s.FindSession(context.Background(), key)
	if err != nil {
		t.Fatalf("FindSession: %v", err)
	}
	return data, ok
}

// save calls SaveSession and fails the test on error.
func save(t *testing.T, s *SessionStore, key string, data []byte, expiry time.Time) {
	t.Helper()
	if err := s.SaveSession(context.Background(), key, data, expiry); err != nil {
		t.Fatalf("SaveSession: %v", err)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()

	t.Run("save find replace delete", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		s := c.Sessions()
		if data, ok := find(t, s, "k"); ok || data != nil {
			t.Errorf("missing session: found=%v data=%q", ok, data)
		}
		save(t, s, "k", []byte("one"), time.Now().Add(time.Hour))
		if data, ok := find(t, s, "k"); !ok || string(data) != "one" {
			t.Errorf("after save: found=%v data=%q, want one", ok, data)
		}
		save(t, s, "k", []byte("two"), time.Now().Add(2*time.Hour))
		if data, ok := find(t, s, "k"); !ok || string(data) != "two" {
			t.Errorf("after replace: found=%v data=%q, want two", ok, data)
		}
		if ttl := pttl(t, rawClient(t), c.key(sessionNS, "k")); ttl < 2*time.Hour-time.Minute || ttl > 2*time.Hour {
			t.Errorf("PTTL after replace = %v, want about 2h", ttl)
		}
		if _, ok := find(t, s, "other"); ok {
			t.Errorf("another key found")
		}
		if err := s.DeleteSession(context.Background(), "k"); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		if _, ok := find(t, s, "k"); ok {
			t.Errorf("found after delete")
		}
		if err := s.DeleteSession(context.Background(), "k"); err != nil {
			t.Errorf("deleting a missing session: %v", err)
		}
		if err := s.PruneSessions(context.Background(), time.Now()); err != nil {
			t.Errorf("PruneSessions: %v", err)
		}
	})

	t.Run("expiry honoured", func(t *testing.T) {
		t.Parallel()
		s := newTestClient(t).Sessions()
		expiry := time.Now().Add(1200 * time.Millisecond)
		save(t, s, "k", []byte("x"), expiry)
		if _, ok := find(t, s, "k"); !ok {
			t.Fatalf("not found before expiry")
		}
		time.Sleep(time.Until(expiry) + 100*time.Millisecond)
		if _, ok := find(t, s, "k"); ok {
			t.Errorf("found after expiry")
		}
	})

	t.Run("binary data round trip", func(t *testing.T) {
		t.Parallel()
		s := newTestClient(t).Sessions()
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		random := make([]byte, 64<<10)
		_, _ = rand.Read(random)
		for name, data := range map[string][]byte{
			"every byte":   all,
			"invalid utf8": {0xff, 0xfe, 0x00, 0xc3, 0x28, '\r', '\n'},
			"random 64k":   random,
			"empty":        {},
		} {
			save(t, s, name, data, time.Now().Add(time.Minute))
			got, ok := find(t, s, name)
			if !ok || !bytes.Equal(got, data) {
				t.Errorf("%s: found=%v, data differs (%d bytes back, %d saved)", name, ok, len(got), len(data))
			}
		}
	})

	t.Run("expiry in the past deletes", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		s := c.Sessions()
		save(t, s, "k", []byte("x"), time.Now().Add(time.Hour))
		save(t, s, "k", []byte("y"), time.Now().Add(-time.Second))
		if _, ok := find(t, s, "k"); ok {
			t.Errorf("found after saving with a past expiry")
		}
		save(t, s, "new", []byte("y"), time.Time{})
		if keys := keysUnder(t, rawClient(t), c.prefix); len(keys) != 0 {
			t.Errorf("keys left: %q", keys)
		}
	})

	t.Run("keys are hashed", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		s := c.Sessions()
		huge := strings.Repeat("s", 1<<20)
		for _, k := range []string{"a\nb", "*", "{}", huge} {
			save(t, s, k, []byte(k[:1]), time.Now().Add(time.Minute))
		}
		if data, ok := find(t, s, huge); !ok || string(data) != "s" {
			t.Errorf("huge key: found=%v data=%q", ok, data)
		}
		for _, k := range keysUnder(t, rawClient(t), c.prefix) {
			if len(k) != len(c.prefix)+len(sessionNS)+hashedLen {
				t.Errorf("Redis key %q has the wrong length", k)
			}
		}
	})
}

// TestTakeSession holds the Redis sessions to the contract every store's
// TakeSession passes.
func TestTakeSession(t *testing.T) {
	t.Parallel()
	storetest.TakeSessionContract(t, newTestClient(t).Sessions())
}
