package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// The contract of passkeys: every field comes back as it went in, a
// credential belongs to one account, an account has at most MaxPasskeys
// even when additions race, a counter that does not move forward is
// refused even when sign-ins race, one account can't touch another's
// passkeys, and the token version moves exactly when a passkey is added
// or removed.

// passkeyBase is a fixed time, so that CreatedAt can be chosen apart from
// the order passkeys are added in.
var passkeyBase = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

// newPasskey is a passkey for u, numbered i, with every field set.
func newPasskey(u blog.User, i int) blog.Passkey {
	return blog.Passkey{
		ID:              fmt.Sprintf("cred-%s-%02d_AZaz09-", u.Username, i),
		UserID:          u.ID,
		Name:            fmt.Sprintf("Key %d", i),
		PublicKey:       []byte{0xa5, 0x01, 0x02, 0x03, 0x26, byte(i), 0x00, 0xff},
		AttestationType: "none",
		AAGUID:          bytes.Repeat([]byte{byte(0x10 + i)}, 16),
		Transports:      []string{"internal", "hybrid"},
		SignCount:       uint32(i),
		BackupEligible:  true,
		BackupState:     i%2 == 0,
		CreatedAt:       passkeyBase.Add(time.Duration(i) * time.Minute),
	}
}

func mustAddPasskey(t *testing.T, s blog.Store, p blog.Passkey) {
	t.Helper()
	if err := s.AddPasskey(context.Background(), p); err != nil {
		t.Fatalf("add passkey %s: %v", p.ID, err)
	}
}

func mustPasskeys(t *testing.T, s blog.Store, userID string) []blog.Passkey {
	t.Helper()
	keys, err := s.Passkeys(context.Background(), userID)
	if err != nil {
		t.Fatalf("passkeys of %s: %v", userID, err)
	}
	return keys
}

func mustPasskeyByID(t *testing.T, s blog.Store, id string) blog.Passkey {
	t.Helper()
	p, err := s.PasskeyByID(context.Background(), id)
	if err != nil {
		t.Fatalf("passkey %s: %v", id, err)
	}
	return p
}

// samePasskey fails unless got is want, field by field; nil transports
// (the authenticator gave none) and an empty list are different.
func samePasskey(t *testing.T, got, want blog.Passkey) {
	t.Helper()
	switch {
	case got.ID != want.ID, got.UserID != want.UserID, got.Name != want.Name,
		!bytes.Equal(got.PublicKey, want.PublicKey), got.AttestationType != want.AttestationType,
		!bytes.Equal(got.AAGUID, want.AAGUID),
		(got.Transports == nil) != (want.Transports == nil), !slices.Equal(got.Transports, want.Transports),
		got.SignCount != want.SignCount, got.BackupEligible != want.BackupEligible, got.BackupState != want.BackupState,
		!got.CreatedAt.Equal(want.CreatedAt), !got.LastUsedAt.Equal(want.LastUsedAt), got.LastUsedAt.IsZero() != want.LastUsedAt.IsZero():
		t.Fatalf("passkey read back:\n got %+v\nwant %+v", got, want)
	}
}

// wantPasskeyCount checks User.Passkeys through every read that returns
// a user.
func wantPasskeyCount(t *testing.T, s blog.Store, u blog.User, want int) {
	t.Helper()
	ctx := context.Background()
	if got := mustGetUser(t, s, u.ID); got.Passkeys != want {
		t.Errorf("UserByID: Passkeys = %d, want %d", got.Passkeys, want)
	}
	byName, err := s.UserByUsername(ctx, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if byName.Passkeys != want {
		t.Errorf("UserByUsername: Passkeys = %d, want %d", byName.Passkeys, want)
	}
	cred, _, err := s.Credentials(ctx, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Passkeys != want {
		t.Errorf("Credentials: Passkeys = %d, want %d", cred.Passkeys, want)
	}
	all, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(x blog.User) bool { return x.ID == u.ID })
	if i < 0 {
		t.Fatalf("ListUsers lacks %s", u.Username)
	}
	if all[i].Passkeys != want {
		t.Errorf("ListUsers: Passkeys = %d, want %d", all[i].Passkeys, want)
	}
	if got := all[i].HasSecondFactor(); got != (want > 0) {
		t.Errorf("ListUsers: HasSecondFactor = %v with %d passkeys", got, want)
	}
}

func testPasskeys(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)

	t.Run("NewUserHasNone", func(t *testing.T) {
		u := mustUser(t, s, "pk-new", blog.RoleAuthor)
		if u.Passkeys != 0 || u.HasSecondFactor() {
			t.Fatalf("created user = %+v", u)
		}
		if keys := mustPasskeys(t, s, u.ID); len(keys) != 0 {
			t.Fatalf("passkeys of a new user = %+v", keys)
		}
		wantPasskeyCount(t, s, u, 0)
	})

	t.Run("AddAndListRoundTrip", func(t *testing.T) {
		u := mustUser(t, s, "pk-list", blog.RoleAuthor)
		// Added in another order than their creation, with the fields'
		// edge values: no transports at all and an empty list, no AAGUID,
		// the largest counter, never used.
		oldest, middle, newest := newPasskey(u, 1), newPasskey(u, 2), newPasskey(u, 3)
		oldest.Transports = nil
		middle.Transports = []string{}
		middle.AAGUID = nil
		middle.SignCount = 1<<32 - 1
		middle.Name = "Clé de sécurité 🔑"
		newest.BackupEligible, newest.BackupState = false, false
		newest.AttestationType = "packed"
		for _, p := range []blog.Passkey{middle, newest, oldest} {
			mustAddPasskey(t, s, p)
		}
		keys := mustPasskeys(t, s, u.ID)
		if len(keys) != 3 {
			t.Fatalf("passkeys = %+v, want 3", keys)
		}
		for i, want := range []blog.Passkey{oldest, middle, newest} {
			samePasskey(t, keys[i], want)
			samePasskey(t, mustPasskeyByID(t, s, want.ID), want)
		}
		wantPasskeyCount(t, s, u, 3)
		wantVersion(t, s, u, 3, "three AddPasskey")
	})

	t.Run("CreatedAtDefaultsToNow", func(t *testing.T) {
		u := mustUser(t, s, "pk-now", blog.RoleAuthor)
		p := newPasskey(u, 1)
		p.CreatedAt = time.Time{}
		before := blog.Now()
		mustAddPasskey(t, s, p)
		got := mustPasskeyByID(t, s, p.ID)
		if got.CreatedAt.Before(before) || got.CreatedAt.After(blog.Now()) {
			t.Fatalf("CreatedAt = %v, want the time of the addition (after %v)", got.CreatedAt, before)
		}
	})

	t.Run("CredentialOfAnotherAccount", func(t *testing.T) {
		alice := mustUser(t, s, "pk-alice", blog.RoleAuthor)
		bob := mustUser(t, s, "pk-bob", blog.RoleAuthor)
		p := newPasskey(alice, 1)
		mustAddPasskey(t, s, p)
		alice = mustGetUser(t, s, alice.ID)

		// The honest owner's copy stays; the same credential ID is refused
		// on another account and again on the same one.
		stolen := newPasskey(bob, 1)
		stolen.ID = p.ID
		wantErr(t, s.AddPasskey(ctx, stolen), blog.ErrPasskeyExists)
		again := newPasskey(alice, 2)
		again.ID = p.ID
		wantErr(t, s.AddPasskey(ctx, again), blog.ErrPasskeyExists)

		samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
		if keys := mustPasskeys(t, s, bob.ID); len(keys) != 0 {
			t.Fatalf("bob's passkeys = %+v", keys)
		}
		if keys := mustPasskeys(t, s, alice.ID); len(keys) != 1 {
			t.Fatalf("alice's passkeys = %+v", keys)
		}
		wantVersion(t, s, bob, 0, "a refused AddPasskey")
		wantVersion(t, s, alice, 0, "a refused AddPasskey")
		wantPasskeyCount(t, s, bob, 0)
	})

	t.Run("AtMostMax", func(t *testing.T) {
		u := mustUser(t, s, "pk-max", blog.RoleAuthor)
		for i := range blog.MaxPasskeys {
			mustAddPasskey(t, s, newPasskey(u, i))
		}
		u = mustGetUser(t, s, u.ID)
		wantErr(t, s.AddPasskey(ctx, newPasskey(u, blog.MaxPasskeys)), blog.ErrTooManyPasskeys)
		if _, err := s.PasskeyByID(ctx, newPasskey(u, blog.MaxPasskeys).ID); err == nil {
			t.Fatal("the refused passkey was stored")
		}
		wantPasskeyCount(t, s, u, blog.MaxPasskeys)
		wantVersion(t, s, u, 0, "a refused AddPasskey")

		// Removing one makes room again.
		if err := s.DeletePasskey(ctx, u.ID, newPasskey(u, 0).ID); err != nil {
			t.Fatal(err)
		}
		mustAddPasskey(t, s, newPasskey(u, blog.MaxPasskeys))
		wantPasskeyCount(t, s, u, blog.MaxPasskeys)
	})

	t.Run("RaceForTheLastPlaces", func(t *testing.T) {
		u := mustUser(t, s, "pk-race", blog.RoleAuthor)
		for i := range blog.MaxPasskeys - 2 {
			mustAddPasskey(t, s, newPasskey(u, i))
		}
		next := make(chan int, 8)
		for i := range 8 {
			next <- blog.MaxPasskeys + i
		}
		errs := race(8, func() error { return s.AddPasskey(ctx, newPasskey(u, <-next)) })
		if n := winners(t, errs, blog.ErrTooManyPasskeys); n != 2 {
			t.Fatalf("%d of 8 racing additions to an account with %d passkeys succeeded, want 2", n, blog.MaxPasskeys-2)
		}
		if keys := mustPasskeys(t, s, u.ID); len(keys) != blog.MaxPasskeys {
			t.Fatalf("%d passkeys after the race, want %d", len(keys), blog.MaxPasskeys)
		}
		wantPasskeyCount(t, s, u, blog.MaxPasskeys)
	})

	t.Run("InvalidNames", func(t *testing.T) {
		u := mustUser(t, s, "pk-names", blog.RoleAuthor)
		kept := newPasskey(u, 1)
		mustAddPasskey(t, s, kept)
		u = mustGetUser(t, s, u.ID)
		for _, name := range []string{"", strings.Repeat("k", blog.PasskeyNameMax+1), strings.Repeat("é", blog.PasskeyNameMax+1),
			"Yubi\nKey", "tab\there", "del\x7f", "c1\u0085control"} {
			p := newPasskey(u, 2)
			p.Name = name
			wantErr(t, s.AddPasskey(ctx, p), blog.ErrInvalidPasskeyName)
			wantErr(t, s.RenamePasskey(ctx, u.ID, kept.ID, name), blog.ErrInvalidPasskeyName)
		}
		if keys := mustPasskeys(t, s, u.ID); len(keys) != 1 || keys[0].Name != kept.Name {
			t.Fatalf("passkeys after invalid names = %+v", keys)
		}
		wantVersion(t, s, u, 0, "refused names")

		// The bounds themselves are fine, in characters, not bytes.
		for _, name := range []string{"k", strings.Repeat("é", blog.PasskeyNameMax)} {
			if err := s.RenamePasskey(ctx, u.ID, kept.ID, name); err != nil {
				t.Fatalf("rename to %q: %v", name, err)
			}
			if got := mustPasskeyByID(t, s, kept.ID).Name; got != name {
				t.Fatalf("name = %q, want %q", got, name)
			}
		}
	})

	t.Run("TokenVersion", func(t *testing.T) {
		u := mustUser(t, s, "pk-version", blog.RoleAuthor)
		p := newPasskey(u, 1)
		mustAddPasskey(t, s, p)
		wantVersion(t, s, u, 1, "AddPasskey")
		u = mustGetUser(t, s, u.ID)
		if err := s.RenamePasskey(ctx, u.ID, p.ID, "Renamed"); err != nil {
			t.Fatal(err)
		}
		wantVersion(t, s, u, 0, "RenamePasskey")
		if err := s.UsePasskey(ctx, p.ID, 10, true, blog.Now()); err != nil {
			t.Fatal(err)
		}
		wantVersion(t, s, u, 0, "UsePasskey")
		if err := s.DeletePasskey(ctx, u.ID, p.ID); err != nil {
			t.Fatal(err)
		}
		wantVersion(t, s, u, 1, "DeletePasskey")
	})

	t.Run("RenameKeepsTheRest", func(t *testing.T) {
		u := mustUser(t, s, "pk-rename", blog.RoleAuthor)
		p := newPasskey(u, 1)
		mustAddPasskey(t, s, p)
		if err := s.RenamePasskey(ctx, u.ID, p.ID, "Laptop"); err != nil {
			t.Fatal(err)
		}
		p.Name = "Laptop"
		samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
	})

	t.Run("Delete", func(t *testing.T) {
		u := mustUser(t, s, "pk-delete", blog.RoleAuthor)
		gone, stays := newPasskey(u, 1), newPasskey(u, 2)
		mustAddPasskey(t, s, gone)
		mustAddPasskey(t, s, stays)
		if err := s.DeletePasskey(ctx, u.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.PasskeyByID(ctx, gone.ID)
		wantErr(t, err, blog.ErrPasskeyNotFound)
		wantErr(t, s.UsePasskey(ctx, gone.ID, 100, false, blog.Now()), blog.ErrPasskeyNotFound)
		keys := mustPasskeys(t, s, u.ID)
		if len(keys) != 1 {
			t.Fatalf("passkeys after a delete = %+v", keys)
		}
		samePasskey(t, keys[0], stays)
		wantPasskeyCount(t, s, u, 1)

		// Deleting it again finds nothing and bumps nothing.
		u = mustGetUser(t, s, u.ID)
		wantErr(t, s.DeletePasskey(ctx, u.ID, gone.ID), blog.ErrPasskeyNotFound)
		wantVersion(t, s, u, 0, "deleting a deleted passkey")
	})

	t.Run("CounterMovesForward", func(t *testing.T) {
		u := mustUser(t, s, "pk-counter", blog.RoleAuthor)
		p := newPasskey(u, 4) // counter 4
		p.BackupState = false
		mustAddPasskey(t, s, p)

		first := blog.Now()
		if err := s.UsePasskey(ctx, p.ID, 5, true, first); err != nil {
			t.Fatalf("counter 4 -> 5: %v", err)
		}
		p.SignCount, p.BackupState, p.LastUsedAt = 5, true, first
		samePasskey(t, mustPasskeyByID(t, s, p.ID), p)

		// The same value again, or a lower one, is what a copied
		// authenticator shows: refused, and nothing changes.
		for _, count := range []uint32{5, 4, 0} {
			wantErr(t, s.UsePasskey(ctx, p.ID, count, false, first.Add(time.Hour)), blog.ErrPasskeyCounter)
			samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
		}

		later := first.Add(time.Minute)
		if err := s.UsePasskey(ctx, p.ID, 1<<32-1, false, later); err != nil {
			t.Fatalf("counter 5 -> max: %v", err)
		}
		p.SignCount, p.BackupState, p.LastUsedAt = 1<<32-1, false, later
		samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
	})

	t.Run("SyncedPasskeyKeepsZero", func(t *testing.T) {
		u := mustUser(t, s, "pk-synced", blog.RoleAuthor)
		p := newPasskey(u, 0) // counter 0
		mustAddPasskey(t, s, p)
		for i := range 3 {
			at := passkeyBase.Add(time.Duration(i+1) * time.Hour)
			if err := s.UsePasskey(ctx, p.ID, 0, true, at); err != nil {
				t.Fatalf("use %d with counter 0: %v", i+1, err)
			}
			p.BackupState, p.LastUsedAt = true, at
			samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
		}
		// Once it counts, 0 is going backwards.
		if err := s.UsePasskey(ctx, p.ID, 1, true, passkeyBase.Add(5*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.UsePasskey(ctx, p.ID, 0, true, passkeyBase.Add(6*time.Hour)), blog.ErrPasskeyCounter)
		if got := mustPasskeyByID(t, s, p.ID); got.SignCount != 1 || !got.LastUsedAt.Equal(passkeyBase.Add(5*time.Hour)) {
			t.Fatalf("after a refused 0: counter %d, last used %v", got.SignCount, got.LastUsedAt)
		}
	})

	t.Run("CounterRace", func(t *testing.T) {
		u := mustUser(t, s, "pk-counter-race", blog.RoleAuthor)
		p := newPasskey(u, 4) // counter 4
		mustAddPasskey(t, s, p)
		errs := race(8, func() error { return s.UsePasskey(ctx, p.ID, 5, true, blog.Now()) })
		if n := winners(t, errs, blog.ErrPasskeyCounter); n != 1 {
			t.Fatalf("%d of 8 sign-ins with the same counter value succeeded, want 1", n)
		}
		if got := mustPasskeyByID(t, s, p.ID).SignCount; got != 5 {
			t.Fatalf("counter after the race = %d, want 5", got)
		}
	})

	t.Run("AnotherAccountsPasskey", func(t *testing.T) {
		owner := mustUser(t, s, "pk-owner", blog.RoleAuthor)
		other := mustUser(t, s, "pk-other", blog.RoleAuthor)
		p := newPasskey(owner, 1)
		mustAddPasskey(t, s, p)
		owner = mustGetUser(t, s, owner.ID)

		// The owner may; the other account can neither rename nor remove
		// it, and learns nothing beyond "not found".
		wantErr(t, s.RenamePasskey(ctx, other.ID, p.ID, "Mine now"), blog.ErrPasskeyNotFound)
		wantErr(t, s.DeletePasskey(ctx, other.ID, p.ID), blog.ErrPasskeyNotFound)
		samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
		wantVersion(t, s, owner, 0, "another account's attempts")
		wantVersion(t, s, other, 0, "its own refused attempts")
		if err := s.RenamePasskey(ctx, owner.ID, p.ID, "Still mine"); err != nil {
			t.Fatalf("the owner's rename: %v", err)
		}
	})

	t.Run("UnknownPasskey", func(t *testing.T) {
		u := mustUser(t, s, "pk-unknown", blog.RoleAuthor)
		for _, id := range []string{"no-such-credential", "", `{"$gt": ""}`, "' OR 1=1 --", "%"} {
			_, err := s.PasskeyByID(ctx, id)
			wantErr(t, err, blog.ErrPasskeyNotFound)
			wantErr(t, s.UsePasskey(ctx, id, 1, false, blog.Now()), blog.ErrPasskeyNotFound)
			wantErr(t, s.RenamePasskey(ctx, u.ID, id, "Name"), blog.ErrPasskeyNotFound)
			wantErr(t, s.DeletePasskey(ctx, u.ID, id), blog.ErrPasskeyNotFound)
		}
		wantVersion(t, s, u, 0, "acting on unknown passkeys")
	})

	t.Run("UnknownUser", func(t *testing.T) {
		owner := mustUser(t, s, "pk-known", blog.RoleAuthor)
		p := newPasskey(owner, 1)
		mustAddPasskey(t, s, p)
		for _, id := range []string{blog.NewID(), "' OR 1=1 --"} {
			orphan := newPasskey(blog.User{ID: id, Username: "nobody"}, 1)
			wantErr(t, s.AddPasskey(ctx, orphan), blog.ErrUserNotFound)
			_, err := s.Passkeys(ctx, id)
			wantErr(t, err, blog.ErrUserNotFound)
			wantErr(t, s.RenamePasskey(ctx, id, p.ID, "Name"), blog.ErrUserNotFound)
			wantErr(t, s.DeletePasskey(ctx, id, p.ID), blog.ErrUserNotFound)
			_, err = s.PasskeyByID(ctx, orphan.ID)
			wantErr(t, err, blog.ErrPasskeyNotFound)
		}
		samePasskey(t, mustPasskeyByID(t, s, p.ID), p)
	})
}
