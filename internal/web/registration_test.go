package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestRegistrationPolicyOnTheWebsite: /register under each
// PALISADE_REGISTRATION, the honest visitor beside the refused ones; a
// refusal is a 403 page that says why and stores nothing.
func TestRegistrationPolicyOnTheWebsite(t *testing.T) {
	apptest.ForEachStore(t, testRegistrationPolicyOnTheWebsite)
}

func testRegistrationPolicyOnTheWebsite(t *testing.T, st apptest.Store) {
	refused := func(t *testing.T, p *page, message string) {
		t.Helper()
		wantStatus(t, p, http.StatusForbidden)
		if !strings.Contains(p.Text(), message) {
			t.Errorf("the page does not say %q:\n%s", message, p.Text())
		}
	}
	noAccount := func(t *testing.T, srv *apptest.Server, name string) {
		t.Helper()
		if _, err := srv.Store.UserByUsername(t.Context(), name); blog.ErrorCode(err) != blog.ENOTFOUND {
			t.Errorf("%s was stored (err %v)", name, err)
		}
	}
	newInvite := func(t *testing.T, srv *apptest.Server) (string, string) {
		t.Helper()
		token, hash := blog.NewInviteToken()
		inv, err := srv.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return token, inv.ID
	}
	form := func(name, invite string) url.Values {
		v := url.Values{"username": {name}, "password": {apptest.Password}}
		if invite != "" {
			v.Set("invite", invite)
		}
		return v
	}

	t.Run("Invite", func(t *testing.T) {
		srv := st.Start(t, map[string]string{"PALISADE_REGISTRATION": "invite"})
		b := newClient(t, srv)
		refused(t, b.Page(t, "/register"), "invitation only")
		// The form of another page, posted without an invite.
		refused(t, b.Submit(t, "/login", "/register", form("nobody", "")), "invitation only")
		noAccount(t, srv, "nobody")

		token, _ := newInvite(t, srv)
		p := b.Page(t, "/register?invite="+token)
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Text(), `name="invite" value="`+token+`"`) {
			t.Fatalf("the form does not carry the invite:\n%s", p.Text())
		}
		// A form mistake shows the form again, invite kept and unused.
		p = b.Submit(t, "/register?invite="+token, "/register", url.Values{"username": {"invited"}, "password": {"short"}, "invite": {token}})
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Text(), `name="invite" value="`+token+`"`) {
			t.Fatalf("the corrected form lost the invite:\n%s", p.Text())
		}
		wantRedirect(t, b.Submit(t, "/register?invite="+token, "/register", form("invited", token)), "/")
		if home := b.Page(t, "/"); !strings.Contains(home.Text(), "invited") {
			t.Fatalf("the invited author is not signed in:\n%s", home.Text())
		}

		t.Run("SingleUse", func(t *testing.T) {
			other := newClient(t, srv)
			refused(t, other.Submit(t, "/register?invite="+token, "/register", form("again", token)), "Invite link is invalid")
			noAccount(t, srv, "again")
		})
		t.Run("Revoked", func(t *testing.T) {
			tok, id := newInvite(t, srv)
			if err := srv.Store.RevokeInvite(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			other := newClient(t, srv)
			refused(t, other.Submit(t, "/register?invite="+tok, "/register", form("revoked", tok)), "Invite link is invalid")
			noAccount(t, srv, "revoked")
		})
		t.Run("Wrong", func(t *testing.T) {
			other := newClient(t, srv)
			refused(t, other.Page(t, "/register?invite=not-an-invite"), "Invite link is invalid")
			tok, _ := blog.NewInviteToken()
			refused(t, other.Submit(t, "/register?invite="+tok, "/register", form("wrong", tok)), "Invite link is invalid")
			noAccount(t, srv, "wrong")
		})
		t.Run("CrossSiteForm", func(t *testing.T) {
			tok, _ := newInvite(t, srv)
			other := newClient(t, srv)
			f := form("forged", tok)
			f.Set("_csrf", other.CSRFToken(t, "/register?invite="+tok))
			p := other.PostForm(t, "/register", f, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
			wantStatus(t, p, http.StatusForbidden)
			noAccount(t, srv, "forged")
			wantRedirect(t, other.Submit(t, "/register?invite="+tok, "/register", form("honest", tok)), "/")
		})
	})
	t.Run("Open", func(t *testing.T) {
		srv := st.Start(t, map[string]string{"PALISADE_REGISTRATION": "open"})
		register(t, newClient(t, srv), "anyone")
	})
	t.Run("Closed", func(t *testing.T) {
		srv := st.Start(t, map[string]string{"PALISADE_REGISTRATION": "closed"})
		b := newClient(t, srv)
		token, _ := newInvite(t, srv)
		refused(t, b.Page(t, "/register"), "Registration is closed")
		refused(t, b.Page(t, "/register?invite="+token), "Registration is closed")
		refused(t, b.Submit(t, "/login", "/register", form("anyone", "")), "Registration is closed")
		refused(t, b.Submit(t, "/login", "/register", form("invited", token)), "Registration is closed")
		noAccount(t, srv, "anyone")
		noAccount(t, srv, "invited")
	})
}

// TestRegisterLinkOnlyWhenOpen: pages link to /register only when anyone
// may register; under the other policies the link would lead to a 403.
func TestRegisterLinkOnlyWhenOpen(t *testing.T) {
	for _, tc := range []struct {
		policy string
		link   bool
	}{
		{"open", true},
		{"invite", false},
		{"closed", false},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			srv := apptest.Start(t, map[string]string{"PALISADE_REGISTRATION": tc.policy})
			b := newClient(t, srv)
			// The home page of an empty blog, the sign-in page and an
			// error page: the header and the pages' own invitations.
			for _, path := range []string{"/", "/login", "/no-such-page"} {
				p := b.Page(t, path)
				if got := strings.Contains(p.Text(), `href="/register"`); got != tc.link {
					t.Errorf("%s under %s: a link to /register is %v, want %v", path, tc.policy, got, tc.link)
				}
			}
		})
	}
}

// TestRefusedInviteCostsNoHashOnTheWebsite: the registration form with a
// made-up, spent or revoked invite is refused before any password is
// hashed, as on the API; the honest invite beside them costs its one hash.
func TestRefusedInviteCostsNoHashOnTheWebsite(t *testing.T) {
	apptest.ForEachStore(t, testRefusedInviteCostsNoHashOnTheWebsite)
}

func testRefusedInviteCostsNoHashOnTheWebsite(t *testing.T, st apptest.Store) {
	h := apptest.NewCountingHasher()
	srv := st.StartWithHasher(t, map[string]string{"PALISADE_REGISTRATION": "invite"}, h)
	invite := func() (token, id string) {
		t.Helper()
		token, hash := blog.NewInviteToken()
		inv, err := srv.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return token, inv.ID
	}
	register := func(name, invite string) *page {
		form := url.Values{"username": {name}, "password": {apptest.Password}, "invite": {invite}}
		return newClient(t, srv).Submit(t, "/register?invite="+invite, "/register", form)
	}

	spent, _ := invite()
	wantRedirect(t, register("invited", spent), "/")
	if n := h.Runs(); n != 1 {
		t.Fatalf("an honest registration ran argon2id %d times, want 1", n)
	}
	revoked, id := invite()
	if err := srv.Store.RevokeInvite(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	madeUp, _ := blog.NewInviteToken()
	for _, c := range []struct{ name, token string }{{"MadeUp", madeUp}, {"Spent", spent}, {"Revoked", revoked}} {
		t.Run(c.name, func(t *testing.T) {
			p := register("stranger", c.token)
			wantStatus(t, p, http.StatusForbidden)
			if !strings.Contains(p.Text(), "Invite link is invalid") {
				t.Errorf("the page does not say the invite is invalid:\n%s", p.Text())
			}
			if n := h.Runs(); n != 0 {
				t.Errorf("a refused invite ran argon2id %d times, want none", n)
			}
		})
	}
	if _, err := srv.Store.UserByUsername(t.Context(), "stranger"); blog.ErrorCode(err) != blog.ENOTFOUND {
		t.Errorf("a refused invite made an account (err %v)", err)
	}
}
