package account_test

import (
	"errors"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

// invite stores an invite with role, expiring after ttl, and returns its
// token and ID.
func (f *fixture) invite(t *testing.T, role blog.Role, ttl time.Duration) (token, id string) {
	t.Helper()
	token, hash := blog.NewInviteToken()
	inv, err := f.store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: role, ExpiresAt: time.Now().Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return token, inv.ID
}

// users counts the accounts in the store.
func (f *fixture) users(t *testing.T) int {
	t.Helper()
	us, err := f.store.ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}

func TestRegistrationPolicy(t *testing.T) {
	reg := func(name, invite string) blog.Registration {
		return blog.Registration{Username: name, Password: password, Invite: invite}
	}
	t.Run("DefaultIsInvite", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = ""
		if got := f.svc.RegistrationPolicy(); got != account.PolicyInvite {
			t.Fatalf("policy = %q", got)
		}
	})
	t.Run("InviteRefusesNoInvite", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyInvite
		_, err := f.svc.Register(t.Context(), reg("alice", ""))
		if !errors.Is(err, account.ErrInviteRequired) {
			t.Fatalf("err = %v", err)
		}
		if n := f.users(t); n != 0 {
			t.Fatalf("%d accounts stored", n)
		}
		if v, d := f.hasher.hashes(); v+d+f.hasher.made() != 0 {
			t.Error("a refused registration hashed a password")
		}
	})
	t.Run("InviteTakesTheInvitesRoleOnce", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyInvite
		token, _ := f.invite(t, blog.RoleAdmin, time.Hour)
		u, err := f.svc.Register(t.Context(), reg("alice", token))
		if err != nil || u.Role != blog.RoleAdmin {
			t.Fatalf("register = %+v, %v", u, err)
		}
		if n := f.hasher.made(); n != 1 {
			t.Errorf("an honest registration made %d password hashes, want 1", n)
		}
		if _, err := f.svc.Register(t.Context(), reg("bob", token)); !errors.Is(err, blog.ErrInviteInvalid) {
			t.Fatalf("second use: err = %v", err)
		}
		if n := f.hasher.made(); n != 0 {
			t.Errorf("a spent invite cost %d password hashes, want none", n)
		}
		if n := f.users(t); n != 1 {
			t.Fatalf("%d accounts stored, want 1", n)
		}
	})
	t.Run("TakenUsernameLeavesInviteUnused", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyOpen
		f.register(t, "alice")
		f.svc.Registration = account.PolicyInvite
		token, _ := f.invite(t, blog.RoleAuthor, time.Hour)
		if _, err := f.svc.Register(t.Context(), reg("ALICE", token)); !errors.Is(err, blog.ErrUsernameTaken) {
			t.Fatalf("err = %v", err)
		}
		if _, err := f.svc.Register(t.Context(), reg("bob", token)); err != nil {
			t.Fatalf("the invite was used up by a refused name: %v", err)
		}
	})
	// Every refused invite is refused before any password is hashed, so
	// made-up invites cannot make the server spend argon2id for them.
	t.Run("RefusedInvites", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyInvite
		revoked, id := f.invite(t, blog.RoleAuthor, time.Hour)
		if err := f.store.RevokeInvite(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		used, _ := f.invite(t, blog.RoleAuthor, time.Hour)
		if _, err := f.svc.Register(t.Context(), reg("first", used)); err != nil {
			t.Fatal(err)
		}
		f.hasher.made()
		expiring, _ := f.invite(t, blog.RoleAuthor, time.Hour)
		f.svc.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		unknown, _ := blog.NewInviteToken()
		for name, token := range map[string]string{
			"Revoked":   revoked,
			"Used":      used,
			"Expired":   expiring,
			"Unknown":   unknown,
			"Malformed": "not-an-invite",
			"TooLong":   unknown + unknown,
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := f.svc.Register(t.Context(), reg("alice", token)); !errors.Is(err, blog.ErrInviteInvalid) {
					t.Fatalf("err = %v", err)
				}
				if n := f.hasher.made(); n != 0 {
					t.Errorf("the refused invite cost %d password hashes, want none", n)
				}
			})
		}
		if n := f.users(t); n != 1 {
			t.Fatalf("%d accounts stored, want only the first", n)
		}
		// The honest request beside them: a good invite costs one hash.
		f.svc.Now = nil
		good, _ := f.invite(t, blog.RoleAuthor, time.Hour)
		if _, err := f.svc.Register(t.Context(), reg("alice", good)); err != nil {
			t.Fatalf("a good invite: %v", err)
		}
		if n := f.hasher.made(); n != 1 {
			t.Errorf("a good invite made %d password hashes, want 1", n)
		}
	})
	t.Run("OpenRefusesAMadeUpInviteBeforeHashing", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyOpen
		unknown, _ := blog.NewInviteToken()
		if _, err := f.svc.Register(t.Context(), reg("alice", unknown)); !errors.Is(err, blog.ErrInviteInvalid) {
			t.Fatalf("err = %v", err)
		}
		if n := f.hasher.made(); n != 0 {
			t.Errorf("a made-up invite cost %d password hashes, want none", n)
		}
		if n := f.users(t); n != 0 {
			t.Fatalf("%d accounts stored", n)
		}
	})
	t.Run("OpenLetsAnyoneInAsAuthor", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyOpen
		u, err := f.svc.Register(t.Context(), reg("alice", ""))
		if err != nil || u.Role != blog.RoleAuthor {
			t.Fatalf("register = %+v, %v", u, err)
		}
	})
	t.Run("ClosedRefusesEvenAnInvite", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.svc.Registration = account.PolicyClosed
		token, _ := f.invite(t, blog.RoleAuthor, time.Hour)
		for _, inv := range []string{"", token} {
			if _, err := f.svc.Register(t.Context(), reg("alice", inv)); !errors.Is(err, account.ErrRegistrationClosed) {
				t.Fatalf("invite %q: err = %v", inv, err)
			}
		}
		if n := f.users(t); n != 0 {
			t.Fatalf("%d accounts stored", n)
		}
	})
}
