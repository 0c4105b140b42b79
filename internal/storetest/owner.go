package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// The contract of what an instance's owner does: accounts and roles, the
// last-admin guard, the first-admin claim, invites and site settings.

func mustGetUser(t *testing.T, s blog.Store, id string) blog.User {
	t.Helper()
	u, err := s.UserByID(context.Background(), id)
	if err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if blog.ErrorCode(err) != blog.ErrorCode(want) || blog.ErrorMessage(err) != blog.ErrorMessage(want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// winners returns how many of a race's errs are nil, and fails the test
// unless every other one is loser: the error the contract promises the
// racers that lose.
func winners(t *testing.T, errs []error, loser error) int {
	t.Helper()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantErr(t, err, loser)
	}
	return won
}

func testAdminOps(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)

	t.Run("ListUsersEmpty", func(t *testing.T) {
		users, err := s.ListUsers(ctx)
		if err != nil || len(users) != 0 {
			t.Fatalf("ListUsers on an empty store = %v, %v", users, err)
		}
	})
	carol := mustUser(t, s, "carol", blog.RoleAuthor)
	alice := mustUser(t, s, "Alice", blog.RoleAdmin)
	bob := mustUser(t, s, "bob", blog.RoleAuthor)

	t.Run("ListUsersByUsernameIgnoringCase", func(t *testing.T) {
		if err := s.DisableUser(ctx, carol.ID); err != nil {
			t.Fatal(err)
		}
		users, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range users {
			got = append(got, fmt.Sprintf("%s/%s/%v", u.Username, u.Role, u.Disabled))
			if u.CreatedAt.IsZero() || !blog.ValidID(u.ID) {
				t.Errorf("listed user %+v lacks its ID or creation time", u)
			}
		}
		if want := "Alice/admin/false bob/author/false carol/author/true"; strings.Join(got, " ") != want {
			t.Fatalf("ListUsers = %v, want %s", got, want)
		}
	})
	t.Run("EnableUser", func(t *testing.T) {
		disabled := mustGetUser(t, s, carol.ID)
		if err := s.EnableUser(ctx, carol.ID); err != nil {
			t.Fatal(err)
		}
		u := mustGetUser(t, s, carol.ID)
		if u.Disabled {
			t.Fatal("still disabled after EnableUser")
		}
		// Tokens revoked by disabling stay revoked.
		if u.TokenVersion != disabled.TokenVersion {
			t.Fatalf("token version went from %d to %d", disabled.TokenVersion, u.TokenVersion)
		}
		if err := s.EnableUser(ctx, carol.ID); err != nil {
			t.Fatalf("enabling an enabled account: %v", err)
		}
	})
	t.Run("EnableUnknownUser", func(t *testing.T) {
		wantCode(t, s.EnableUser(ctx, blog.NewID()), blog.ENOTFOUND)
		wantCode(t, s.EnableUser(ctx, "not-an-id"), blog.ENOTFOUND)
	})
	t.Run("HasAdmin", func(t *testing.T) {
		fresh := open(t)
		for _, step := range []struct {
			name string
			do   func()
			want bool
		}{
			{"empty", func() {}, false},
			{"only authors", func() { mustUser(t, fresh, "dave", blog.RoleAuthor) }, false},
			{"an admin", func() { mustUser(t, fresh, "erin", blog.RoleAdmin) }, true},
		} {
			step.do()
			if got, err := fresh.HasAdmin(ctx); err != nil || got != step.want {
				t.Fatalf("%s: HasAdmin = %v, %v; want %v", step.name, got, err, step.want)
			}
		}
	})
	if alice.Role != blog.RoleAdmin || bob.Role != blog.RoleAuthor {
		t.Fatalf("created %+v and %+v", alice, bob)
	}
}

func testLastAdmin(t *testing.T, open Opener) {
	ctx := context.Background()

	t.Run("OnlyAdminCannotBeDemotedOrDisabled", func(t *testing.T) {
		s := open(t)
		alice := mustUser(t, s, "alice", blog.RoleAdmin)
		wantErr(t, s.SetRole(ctx, alice.ID, blog.RoleAuthor), blog.ErrLastAdmin)
		wantErr(t, s.DisableUser(ctx, alice.ID), blog.ErrLastAdmin)
		if u := mustGetUser(t, s, alice.ID); u.Role != blog.RoleAdmin || u.Disabled || u.TokenVersion != alice.TokenVersion {
			t.Fatalf("a refused change changed the admin: %+v", u)
		}
		// Setting the role it has is no removal.
		if err := s.SetRole(ctx, alice.ID, blog.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("AnotherAdminFirst", func(t *testing.T) {
		s := open(t)
		alice := mustUser(t, s, "alice", blog.RoleAdmin)
		bob := mustUser(t, s, "bob", blog.RoleAuthor)
		if err := s.SetRole(ctx, bob.ID, blog.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, alice.ID, blog.RoleAuthor); err != nil {
			t.Fatalf("demote with another admin: %v", err)
		}
		wantErr(t, s.DisableUser(ctx, bob.ID), blog.ErrLastAdmin)
		if err := s.SetRole(ctx, alice.ID, blog.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := s.DisableUser(ctx, bob.ID); err != nil {
			t.Fatalf("disable with another admin: %v", err)
		}
		// Authors come and go freely.
		carol := mustUser(t, s, "carol", blog.RoleAuthor)
		if err := s.DisableUser(ctx, carol.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, carol.ID, blog.RoleAuthor); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DisabledAdminDoesNotCount", func(t *testing.T) {
		s := open(t)
		alice := mustUser(t, s, "alice", blog.RoleAdmin)
		bob := mustUser(t, s, "bob", blog.RoleAdmin)
		if err := s.DisableUser(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.SetRole(ctx, alice.ID, blog.RoleAuthor), blog.ErrLastAdmin)
		wantErr(t, s.DisableUser(ctx, alice.ID), blog.ErrLastAdmin)
		// The disabled admin is no admin to keep: it may be demoted.
		if err := s.SetRole(ctx, bob.ID, blog.RoleAuthor); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("UnknownUser", func(t *testing.T) {
		s := open(t)
		mustUser(t, s, "alice", blog.RoleAdmin)
		wantCode(t, s.SetRole(ctx, blog.NewID(), blog.RoleAuthor), blog.ENOTFOUND)
		wantCode(t, s.DisableUser(ctx, blog.NewID()), blog.ENOTFOUND)
	})
	// Two admins removing each other at once: without the check and the
	// change in one atomic step, both would see the other and both
	// succeed, leaving none.
	t.Run("ConcurrentRemovals", func(t *testing.T) {
		demote := func(s blog.Store, u blog.User) func() error {
			return func() error { return s.SetRole(ctx, u.ID, blog.RoleAuthor) }
		}
		disable := func(s blog.Store, u blog.User) func() error {
			return func() error { return s.DisableUser(ctx, u.ID) }
		}
		for _, pair := range []struct {
			name string
			a, b func(blog.Store, blog.User) func() error
		}{
			{"DemoteBoth", demote, demote},
			{"DisableBoth", disable, disable},
			{"DemoteAndDisable", demote, disable},
		} {
			t.Run(pair.name, func(t *testing.T) {
				s := open(t)
				a := mustUser(t, s, "admin_a", blog.RoleAdmin)
				b := mustUser(t, s, "admin_b", blog.RoleAdmin)
				ops := []func() error{pair.a(s, a), pair.b(s, b)}
				errs := make([]error, len(ops))
				var wg sync.WaitGroup
				for i, op := range ops {
					wg.Go(func() { errs[i] = op() })
				}
				wg.Wait()
				ok := winners(t, errs, blog.ErrLastAdmin)
				if ok != 1 {
					t.Fatalf("%d of 2 concurrent removals succeeded (%v), want exactly 1", ok, errs)
				}
				if has, err := s.HasAdmin(ctx); err != nil || !has {
					t.Fatalf("HasAdmin after the removals = %v, %v", has, err)
				}
			})
		}
	})
}

func testFirstAdmin(t *testing.T, open Opener) {
	ctx := context.Background()

	t.Run("ClaimOnce", func(t *testing.T) {
		s := open(t)
		mustUser(t, s, "author", blog.RoleAuthor) // authors don't stop the claim
		u, err := s.CreateFirstAdmin(ctx, blog.NewUser{Username: "owner", PasswordHash: "h", Role: blog.RoleAuthor})
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != blog.RoleAdmin || u.Username != "owner" || !blog.ValidID(u.ID) || u.CreatedAt.IsZero() {
			t.Fatalf("first admin = %+v", u)
		}
		if got := mustGetUser(t, s, u.ID); got.Role != blog.RoleAdmin {
			t.Fatalf("stored first admin = %+v", got)
		}
		if _, hash, err := s.Credentials(ctx, "owner"); err != nil || hash != "h" {
			t.Fatalf("credentials of the first admin: %q, %v", hash, err)
		}
		_, err = s.CreateFirstAdmin(ctx, blog.NewUser{Username: "stranger", PasswordHash: "h", Role: blog.RoleAdmin})
		wantErr(t, err, blog.ErrAdminExists)
		if _, err := s.UserByUsername(ctx, "stranger"); blog.ErrorCode(err) != blog.ENOTFOUND {
			t.Fatalf("a refused claim made an account: %v", err)
		}
	})
	t.Run("AfterAnAdminExists", func(t *testing.T) {
		s := open(t)
		mustUser(t, s, "root_admin", blog.RoleAdmin)
		_, err := s.CreateFirstAdmin(ctx, blog.NewUser{Username: "stranger", PasswordHash: "h"})
		wantErr(t, err, blog.ErrAdminExists)
	})
	t.Run("UsernameTaken", func(t *testing.T) {
		s := open(t)
		mustUser(t, s, "owner", blog.RoleAuthor)
		_, err := s.CreateFirstAdmin(ctx, blog.NewUser{Username: "OWNER", PasswordHash: "h"})
		wantErr(t, err, blog.ErrUsernameTaken)
		if has, err := s.HasAdmin(ctx); err != nil || has {
			t.Fatalf("HasAdmin after a failed claim = %v, %v", has, err)
		}
	})
	t.Run("ConcurrentClaims", func(t *testing.T) {
		s := open(t)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.CreateFirstAdmin(ctx, blog.NewUser{Username: fmt.Sprintf("claimer%d", i), PasswordHash: "h"})
			})
		}
		wg.Wait()
		won := winners(t, errs, blog.ErrAdminExists)
		if won != 1 {
			t.Fatalf("%d of %d concurrent claims won, want exactly 1", won, n)
		}
		users, err := s.ListUsers(ctx)
		if err != nil || len(users) != 1 || users[0].Role != blog.RoleAdmin {
			t.Fatalf("after the claims: %+v, %v", users, err)
		}
	})
}

// newInvite stores an invite and returns it with its token's hash.
func newInvite(t *testing.T, s blog.Store, role blog.Role, createdBy string, ttl time.Duration) (blog.Invite, string) {
	t.Helper()
	_, hash := blog.NewInviteToken()
	inv, err := s.CreateInvite(context.Background(), blog.NewInvite{TokenHash: hash, Role: role, CreatedBy: createdBy, ExpiresAt: blog.Now().Add(ttl)})
	if err != nil {
		t.Fatalf("create invite: %v", err)
	}
	return inv, hash
}

func findInvite(t *testing.T, s blog.Store, id string) blog.Invite {
	t.Helper()
	invites, err := s.ListInvites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invites {
		if inv.ID == id {
			return inv
		}
	}
	t.Fatalf("invite %s not listed", id)
	return blog.Invite{}
}

func testInvites(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	admin := mustUser(t, s, "admin", blog.RoleAdmin)

	t.Run("CreateAndList", func(t *testing.T) {
		expires := blog.Now().Add(time.Hour)
		_, hash := blog.NewInviteToken()
		inv, err := s.CreateInvite(ctx, blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, CreatedBy: admin.ID, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		if !blog.ValidID(inv.ID) || inv.Role != blog.RoleAuthor || inv.CreatedBy != admin.ID || !inv.ExpiresAt.Equal(expires) ||
			inv.CreatedAt.IsZero() || inv.UsedAt != nil || inv.RevokedAt != nil || inv.UsedBy != "" {
			t.Fatalf("created invite = %+v", inv)
		}
		cli, _ := newInvite(t, s, blog.RoleAdmin, "", time.Hour) // from the command line: no creator
		invites, err := s.ListInvites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(invites) < 2 || invites[0].ID != cli.ID || invites[1].ID != inv.ID {
			t.Fatalf("ListInvites is not newest first: %+v", invites)
		}
		if got := invites[1]; got.CreatedBy != admin.ID || !got.ExpiresAt.Equal(expires) || !got.CreatedAt.Equal(inv.CreatedAt) ||
			got.Status(blog.Now()) != blog.InvitePending {
			t.Fatalf("listed invite = %+v, created %+v", got, inv)
		}
		if invites[0].CreatedBy != "" || invites[0].Role != blog.RoleAdmin {
			t.Fatalf("command-line invite = %+v", invites[0])
		}
	})
	t.Run("CreateRefusals", func(t *testing.T) {
		_, hash := blog.NewInviteToken()
		now := blog.Now()
		for _, tt := range []struct {
			name string
			n    blog.NewInvite
			code string
		}{
			{"bad role", blog.NewInvite{TokenHash: hash, Role: "user", ExpiresAt: now.Add(time.Hour)}, blog.EINVALID},
			{"a token, not its hash", blog.NewInvite{TokenHash: "secret-token", Role: blog.RoleAuthor, ExpiresAt: now.Add(time.Hour)}, blog.EINVALID},
			{"already expired", blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: now.Add(-time.Second)}, blog.EINVALID},
			{"too long", blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: now.Add(blog.MaxInviteLifetime + time.Hour)}, blog.EINVALID},
			{"unknown creator", blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, CreatedBy: blog.NewID(), ExpiresAt: now.Add(time.Hour)}, blog.ENOTFOUND},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.CreateInvite(ctx, tt.n)
				wantCode(t, err, tt.code)
			})
		}
		_, used := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		_, err := s.CreateInvite(ctx, blog.NewInvite{TokenHash: used, Role: blog.RoleAuthor, ExpiresAt: now.Add(time.Hour)})
		wantCode(t, err, blog.ECONFLICT)
	})
	t.Run("Redeem", func(t *testing.T) {
		inv, hash := newInvite(t, s, blog.RoleAuthor, admin.ID, time.Hour)
		// The role comes from the invite, never from the caller.
		u, err := s.RedeemInvite(ctx, hash, blog.NewUser{Username: "newcomer", PasswordHash: "h", Role: blog.RoleAdmin}, blog.Now())
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != blog.RoleAuthor || u.Username != "newcomer" || !blog.ValidID(u.ID) {
			t.Fatalf("redeemed account = %+v", u)
		}
		if got := mustGetUser(t, s, u.ID); got.Role != blog.RoleAuthor {
			t.Fatalf("stored account = %+v", got)
		}
		got := findInvite(t, s, inv.ID)
		if got.UsedAt == nil || got.UsedBy != u.ID || got.Status(blog.Now()) != blog.InviteUsed {
			t.Fatalf("invite after redeeming = %+v", got)
		}
		_, err = s.RedeemInvite(ctx, hash, blog.NewUser{Username: "second", PasswordHash: "h"}, blog.Now())
		wantErr(t, err, blog.ErrInviteInvalid)
	})
	t.Run("AdminInvite", func(t *testing.T) {
		_, hash := newInvite(t, s, blog.RoleAdmin, admin.ID, time.Hour)
		u, err := s.RedeemInvite(ctx, hash, blog.NewUser{Username: "coadmin", PasswordHash: "h", Role: blog.RoleAuthor}, blog.Now())
		if err != nil || u.Role != blog.RoleAdmin {
			t.Fatalf("redeem an admin invite = %+v, %v", u, err)
		}
	})
	// Every refusal gives the same answer, so it tells nothing about why.
	t.Run("OneAnswerForEveryRefusal", func(t *testing.T) {
		expiring, expiringHash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		revoked, revokedHash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		if err := s.RevokeInvite(ctx, revoked.ID); err != nil {
			t.Fatal(err)
		}
		_, unknown := blog.NewInviteToken()
		for _, tt := range []struct {
			name string
			hash string
			now  time.Time
		}{
			{"unknown", unknown, blog.Now()},
			{"malformed", "' OR 1=1 --", blog.Now()},
			{"empty", "", blog.Now()},
			{"expired", expiringHash, expiring.ExpiresAt.Add(time.Second)},
			{"at its expiry", expiringHash, expiring.ExpiresAt},
			{"revoked", revokedHash, blog.Now()},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.RedeemInvite(ctx, tt.hash, blog.NewUser{Username: "hopeful", PasswordHash: "h"}, tt.now)
				wantErr(t, err, blog.ErrInviteInvalid)
			})
		}
		if _, err := s.UserByUsername(ctx, "hopeful"); blog.ErrorCode(err) != blog.ENOTFOUND {
			t.Fatalf("a refused invite made an account: %v", err)
		}
		if got := findInvite(t, s, expiring.ID); got.Status(expiring.ExpiresAt) != blog.InviteExpired || got.UsedAt != nil {
			t.Fatalf("expired invite = %+v", got)
		}
		if got := findInvite(t, s, revoked.ID); got.RevokedAt == nil || got.Status(blog.Now()) != blog.InviteRevoked {
			t.Fatalf("revoked invite = %+v", got)
		}
	})
	// InviteUsable answers as RedeemInvite would, and only reads: asking
	// neither uses nor spoils the invite.
	t.Run("Usable", func(t *testing.T) {
		inv, hash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		for range 2 {
			if err := s.InviteUsable(ctx, hash, blog.Now()); err != nil {
				t.Fatalf("a pending invite: %v", err)
			}
		}
		if err := s.InviteUsable(ctx, hash, inv.ExpiresAt.Add(-time.Microsecond)); err != nil {
			t.Fatalf("just before its expiry: %v", err)
		}
		if got := findInvite(t, s, inv.ID); got.Status(blog.Now()) != blog.InvitePending || got.UsedAt != nil || got.RevokedAt != nil {
			t.Fatalf("InviteUsable changed the invite: %+v", got)
		}
		if _, err := s.RedeemInvite(ctx, hash, blog.NewUser{Username: "checked_first", PasswordHash: "h"}, blog.Now()); err != nil {
			t.Fatalf("redeem after InviteUsable: %v", err)
		}

		revoked, revokedHash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		if err := s.RevokeInvite(ctx, revoked.ID); err != nil {
			t.Fatal(err)
		}
		expiring, expiringHash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		_, unknown := blog.NewInviteToken()
		for _, tt := range []struct {
			name string
			hash string
			now  time.Time
		}{
			{"used", hash, blog.Now()},
			{"revoked", revokedHash, blog.Now()},
			{"expired", expiringHash, expiring.ExpiresAt.Add(time.Second)},
			{"at its expiry", expiringHash, expiring.ExpiresAt},
			{"unknown", unknown, blog.Now()},
			{"malformed", "' OR 1=1 --", blog.Now()},
			{"empty", "", blog.Now()},
			{"upper-case hash", strings.ToUpper(expiringHash), blog.Now()},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantErr(t, s.InviteUsable(ctx, tt.hash, tt.now), blog.ErrInviteInvalid)
			})
		}
		// The expired one was expired only at a later now.
		if err := s.InviteUsable(ctx, expiringHash, blog.Now()); err != nil {
			t.Fatalf("the expiring invite now: %v", err)
		}
	})
	t.Run("UsernameClashKeepsTheInvite", func(t *testing.T) {
		inv, hash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		_, err := s.RedeemInvite(ctx, hash, blog.NewUser{Username: "ADMIN", PasswordHash: "h"}, blog.Now())
		wantErr(t, err, blog.ErrUsernameTaken)
		if got := findInvite(t, s, inv.ID); got.UsedAt != nil || got.UsedBy != "" {
			t.Fatalf("a failed redeem used the invite: %+v", got)
		}
		if _, err := s.RedeemInvite(ctx, hash, blog.NewUser{Username: "othername", PasswordHash: "h"}, blog.Now()); err != nil {
			t.Fatalf("redeem with another name: %v", err)
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		wantErr(t, s.RevokeInvite(ctx, blog.NewID()), blog.ErrInviteNotFound)
		wantErr(t, s.RevokeInvite(ctx, "not-an-id"), blog.ErrInviteNotFound)
		inv, _ := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		if err := s.RevokeInvite(ctx, inv.ID); err != nil {
			t.Fatal(err)
		}
		first := findInvite(t, s, inv.ID).RevokedAt
		if err := s.RevokeInvite(ctx, inv.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if again := findInvite(t, s, inv.ID).RevokedAt; first == nil || again == nil || !again.Equal(*first) {
			t.Fatalf("revoked at %v, then %v", first, again)
		}
		used, hash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		if _, err := s.RedeemInvite(ctx, hash, blog.NewUser{Username: "early_bird", PasswordHash: "h"}, blog.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeInvite(ctx, used.ID); err != nil {
			t.Fatalf("revoking a used invite: %v", err)
		}
		if got := findInvite(t, s, used.ID); got.Status(blog.Now()) != blog.InviteUsed || got.RevokedAt != nil {
			t.Fatalf("revoking a used invite changed it: %+v", got)
		}
	})
	t.Run("ConcurrentRedeems", func(t *testing.T) {
		_, hash := newInvite(t, s, blog.RoleAuthor, "", time.Hour)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.RedeemInvite(ctx, hash, blog.NewUser{Username: fmt.Sprintf("racer%d", i), PasswordHash: "h"}, blog.Now())
			})
		}
		wg.Wait()
		won := winners(t, errs, blog.ErrInviteInvalid)
		users, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		racers := 0
		for _, u := range users {
			if strings.HasPrefix(u.Username, "racer") {
				racers++
			}
		}
		if won != 1 || racers != 1 {
			t.Fatalf("%d redeems won and %d accounts were made from one invite, want 1 and 1", won, racers)
		}
	})
}

func testSettings(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	get := func() blog.Settings {
		t.Helper()
		st, err := s.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if got := get(); got != blog.DefaultSettings() || got.Title != "Palisade" || got.Description != "" {
		t.Fatalf("settings of a fresh store = %+v", got)
	}
	want := blog.Settings{Title: "Notes from the hill", Description: "Short essays, \"quoted\" and <b>not bold</b>; ünïcödé"}
	if err := s.SetSettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != want {
		t.Fatalf("settings = %+v, want %+v", got, want)
	}
	longest := blog.Settings{Title: strings.Repeat("é", blog.SiteTitleMax), Description: strings.Repeat("ü", blog.SiteDescriptionMax)}
	if err := s.SetSettings(ctx, longest); err != nil {
		t.Fatalf("settings at the limits: %v", err)
	}
	if got := get(); got != longest {
		t.Fatalf("settings = %+v, want %+v", got, longest)
	}
	for _, bad := range []blog.Settings{
		{Title: "", Description: "x"},
		{Title: strings.Repeat("a", blog.SiteTitleMax+1)},
		{Title: "ok", Description: strings.Repeat("a", blog.SiteDescriptionMax+1)},
		{Title: "line\nbreak"},
		{Title: "ok", Description: "bell\a"},
		{Title: "hidden\u202eoverride"},
		{Title: "bad \xff utf-8"},
	} {
		var verr *blog.ValidationError
		if err := s.SetSettings(ctx, bad); !errors.As(err, &verr) {
			t.Fatalf("SetSettings(%+q) = %v, want a validation error", bad, err)
		}
	}
	if got := get(); got != longest {
		t.Fatalf("refused settings changed what is stored: %+v", got)
	}
}
