package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestRegistrationPolicy: POST /auth/register under each
// PALISADE_REGISTRATION, the honest request beside the refused ones; a
// refusal is a 403 in the API's error shape that stores nothing.
func TestRegistrationPolicy(t *testing.T) {
	apptest.ForEachStore(t, testRegistrationPolicy)
}

func testRegistrationPolicy(t *testing.T, st apptest.Store) {
	register := func(ts *testServer, name, invite string) *response {
		t.Helper()
		body := map[string]string{"username": name, "password": testPassword}
		if invite != "" {
			body["invite"] = invite
		}
		return ts.Post(t, "/auth/register", "", body)
	}
	refused := func(t *testing.T, ts *testServer, r *response, message string) {
		t.Helper()
		r.Want(t, http.StatusForbidden)
		var b struct{ Error, Message string }
		r.JSON(t, &b)
		if b.Error != "Forbidden" || !strings.Contains(b.Message, message) {
			t.Errorf("body = %s, want Forbidden and %q", r.Body, message)
		}
	}
	noAccount := func(t *testing.T, ts *testServer, name string) {
		t.Helper()
		if _, err := ts.Store.UserByUsername(t.Context(), name); blog.ErrorCode(err) != blog.ENOTFOUND {
			t.Errorf("%s was stored (err %v)", name, err)
		}
	}
	newInvite := func(t *testing.T, ts *testServer, role blog.Role, ttl time.Duration) (string, string) {
		t.Helper()
		token, hash := blog.NewInviteToken()
		inv, err := ts.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: role, ExpiresAt: time.Now().Add(ttl)})
		if err != nil {
			t.Fatal(err)
		}
		return token, inv.ID
	}

	t.Run("Invite", func(t *testing.T) {
		ts := newServerOn(t, st, map[string]string{"PALISADE_REGISTRATION": "invite"})
		refused(t, ts, register(ts, "nobody", ""), "invitation only")
		noAccount(t, ts, "nobody")

		token, _ := newInvite(t, ts, blog.RoleAdmin, time.Hour)
		register(ts, "invited", token).Want(t, http.StatusCreated)
		if me := ts.Get(t, "/users/me", ts.Login(t, "invited")).Want(t, http.StatusOK); !strings.Contains(me.Text(), `"role":"admin"`) {
			t.Errorf("the account did not get the invite's role: %s", me.Body)
		}
		t.Run("SingleUse", func(t *testing.T) {
			refused(t, ts, register(ts, "again", token), "Invite link is invalid")
			noAccount(t, ts, "again")
		})
		t.Run("Revoked", func(t *testing.T) {
			tok, id := newInvite(t, ts, blog.RoleAuthor, time.Hour)
			if err := ts.Store.RevokeInvite(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			refused(t, ts, register(ts, "revoked", tok), "Invite link is invalid")
			noAccount(t, ts, "revoked")
		})
		t.Run("Wrong", func(t *testing.T) {
			tok, _ := blog.NewInviteToken()
			refused(t, ts, register(ts, "wrong", tok), "Invite link is invalid")
			refused(t, ts, register(ts, "wrong", "../../etc/passwd"), "Invite link is invalid")
			refused(t, ts, register(ts, "wrong", strings.Repeat("A", 10_000)), "Invite link is invalid")
			noAccount(t, ts, "wrong")
		})
		t.Run("NotAString", func(t *testing.T) {
			ts.Post(t, "/auth/register", "", map[string]any{"username": "typed", "password": testPassword, "invite": map[string]string{"$ne": ""}}).Want(t, http.StatusBadRequest)
			noAccount(t, ts, "typed")
		})
		t.Run("Expired", func(t *testing.T) {
			// An invite expires with the clock; the store's own tests
			// cover the boundary, this one that the API says so.
			tok, hash := blog.NewInviteToken()
			if _, err := ts.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: time.Now().Add(time.Second)}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond)
			refused(t, ts, register(ts, "late", tok), "Invite link is invalid")
			noAccount(t, ts, "late")
		})
	})
	t.Run("Open", func(t *testing.T) {
		ts := newServerOn(t, st, map[string]string{"PALISADE_REGISTRATION": "open"})
		register(ts, "anyone", "").Want(t, http.StatusCreated)
		tok, _ := blog.NewInviteToken()
		refused(t, ts, register(ts, "badinvite", tok), "Invite link is invalid")
		noAccount(t, ts, "badinvite")
	})
	t.Run("Closed", func(t *testing.T) {
		ts := newServerOn(t, st, map[string]string{"PALISADE_REGISTRATION": "closed"})
		token, _ := newInvite(t, ts, blog.RoleAuthor, time.Hour)
		refused(t, ts, register(ts, "anyone", ""), "Registration is closed")
		refused(t, ts, register(ts, "invited", token), "Registration is closed")
		noAccount(t, ts, "anyone")
		noAccount(t, ts, "invited")
	})
}

// TestRefusedInviteCostsNoHash: a made-up, spent or revoked invite is
// refused before any password is hashed, so a stranger cannot make the
// server spend argon2id (its memory and a core for tens of milliseconds)
// on every guess and crowd out real sign-ins. The honest invite beside
// them costs its one hash.
func TestRefusedInviteCostsNoHash(t *testing.T) {
	apptest.ForEachStore(t, testRefusedInviteCostsNoHash)
}

func testRefusedInviteCostsNoHash(t *testing.T, st apptest.Store) {
	h := apptest.NewCountingHasher()
	ts := wrap(t, st.StartWithHasher(t, map[string]string{"PALISADE_REGISTRATION": "invite"}, h))
	invite := func() (token, id string) {
		t.Helper()
		token, hash := blog.NewInviteToken()
		inv, err := ts.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return token, inv.ID
	}
	register := func(name, invite string) *response {
		return ts.Post(t, "/auth/register", "", map[string]string{"username": name, "password": testPassword, "invite": invite})
	}

	spent, _ := invite()
	register("invited", spent).Want(t, http.StatusCreated)
	if n := h.Runs(); n != 1 {
		t.Fatalf("an honest registration ran argon2id %d times, want 1", n)
	}
	revoked, id := invite()
	if err := ts.Store.RevokeInvite(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	madeUp, _ := blog.NewInviteToken()
	for _, c := range []struct{ name, token string }{{"MadeUp", madeUp}, {"Spent", spent}, {"Revoked", revoked}} {
		t.Run(c.name, func(t *testing.T) {
			r := register("stranger", c.token)
			r.Want(t, http.StatusForbidden)
			if !strings.Contains(r.Text(), "Invite link is invalid") {
				t.Errorf("body = %s", r.Body)
			}
			if n := h.Runs(); n != 0 {
				t.Errorf("a refused invite ran argon2id %d times, want none", n)
			}
		})
	}
	if _, err := ts.Store.UserByUsername(t.Context(), "stranger"); blog.ErrorCode(err) != blog.ENOTFOUND {
		t.Errorf("a refused invite made an account (err %v)", err)
	}
}
