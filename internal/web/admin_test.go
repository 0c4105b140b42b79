package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
)

// addUser creates an account with apptest.Password and role straight in
// the store (whatever the registration policy) and returns it.
func addUser(t *testing.T, srv *apptest.Server, username string, role blog.Role) blog.User {
	t.Helper()
	hash, err := auth.NewHasher(apptest.CheapHash, 0, 0).Hash(t.Context(), apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := srv.Store.CreateUser(t.Context(), blog.NewUser{Username: username, PasswordHash: hash, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// signIn makes an account with role and signs it in on a new client.
func signIn(t *testing.T, srv *apptest.Server, username string, role blog.Role) (*apptest.Client, blog.User) {
	t.Helper()
	u := addUser(t, srv, username, role)
	c := newClient(t, srv)
	p := c.Submit(t, "/login", "/login", url.Values{"username": {username}, "password": {apptest.Password}})
	wantRedirect(t, p, "/")
	return c, u
}

// adminState is everything the admin page can change, as one string a
// test compares before and after.
func adminState(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	var b strings.Builder
	users, err := srv.Store.ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "user %s %s disabled=%v\n", u.Username, u.Role, u.Disabled)
	}
	invites, err := srv.Store.ListInvites(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invites {
		fmt.Fprintf(&b, "invite %s %s %s\n", inv.ID, inv.Role, inv.Status(blog.Now()))
	}
	s, err := srv.Store.Settings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "settings %q %q\n", s.Title, s.Description)
	return b.String()
}

func wantText(t *testing.T, p *page, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.Text(), w) {
			t.Fatalf("page lacks %q:\n%s", w, p.Text())
		}
	}
}

func TestAdminPageAccess(t *testing.T) { apptest.ForEachStore(t, testAdminPageAccess) }

func testAdminPageAccess(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	boss, _ := signIn(t, srv, "boss", blog.RoleAdmin)
	author, _ := signIn(t, srv, "writer", blog.RoleAuthor)

	t.Run("Admin", func(t *testing.T) {
		p := boss.Page(t, "/admin")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "<h2 id=\"users-h\">Accounts</h2>", "writer", "Create invite link", "Save settings", `<a href="/admin">Admin</a>`)
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control = %q, want no-store", p.Header.Get("Cache-Control"))
		}
	})
	t.Run("Author", func(t *testing.T) {
		p := author.Page(t, "/admin")
		wantStatus(t, p, http.StatusForbidden)
		wantText(t, p, "Only the site&#39;s admins may use this page.")
		if strings.Contains(p.Text(), `href="/admin"`) {
			t.Fatal("an author's header links to the admin page")
		}
		if !strings.Contains(srv.Logs.String(), `"event":"forbidden"`) {
			t.Fatal("refused admin page not logged")
		}
	})
	t.Run("Anonymous", func(t *testing.T) {
		wantRedirect(t, newClient(t, srv).Page(t, "/admin"), "/login?next=%2Fadmin")
	})
	t.Run("DisabledAdmin", func(t *testing.T) {
		// Disabled by another admin: the session ends, and with it the
		// admin page.
		c, u := signIn(t, srv, "former", blog.RoleAdmin)
		wantStatus(t, c.Page(t, "/admin"), http.StatusOK)
		wantRedirect(t, boss.Submit(t, "/admin", "/admin/users/"+u.ID+"/disable", url.Values{}), "/admin#users")
		wantRedirect(t, c.Page(t, "/admin"), "/login?next=%2Fadmin")
	})
	t.Run("DisabledFlagOnly", func(t *testing.T) {
		// The flag alone, without the token version bump, is enough.
		c, u := signIn(t, srv, "flagged", blog.RoleAdmin)
		wantStatus(t, c.Page(t, "/admin"), http.StatusOK)
		srv.DisableOnly(t, u.ID)
		wantRedirect(t, c.Page(t, "/admin"), "/login?next=%2Fadmin")
	})
}

// TestAdminForms checks each admin form: it works for an admin, and it is
// refused, changing nothing, without the CSRF token, from another site,
// for an author and for a visitor who is not signed in.
func TestAdminForms(t *testing.T) { apptest.ForEachStore(t, testAdminForms) }

func testAdminForms(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	boss, _ := signIn(t, srv, "boss", blog.RoleAdmin)
	author, _ := signIn(t, srv, "mallory", blog.RoleAuthor)
	anon := newClient(t, srv)
	carol := addUser(t, srv, "carol", blog.RoleAuthor)
	dave := addUser(t, srv, "dave", blog.RoleAdmin)
	erin := addUser(t, srv, "erin", blog.RoleAuthor)
	if err := srv.Store.DisableUser(t.Context(), erin.ID); err != nil {
		t.Fatal(err)
	}
	_, hash := blog.NewInviteToken()
	inv, err := srv.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: blog.RoleAuthor, ExpiresAt: blog.Now().Add(blog.DefaultInviteLifetime)})
	if err != nil {
		t.Fatal(err)
	}

	user := func(t *testing.T, id string) blog.User {
		t.Helper()
		u, err := srv.Store.UserByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	forms := []struct {
		name, action string
		fields       url.Values
		redirect     string
		check        func(t *testing.T, p *page)
	}{
		{"Promote", "/admin/users/" + carol.ID + "/promote", url.Values{}, "/admin#users", func(t *testing.T, p *page) {
			if user(t, carol.ID).Role != blog.RoleAdmin {
				t.Fatal("carol is not an admin")
			}
			wantText(t, boss.Page(t, "/admin"), "carol is now an admin.")
		}},
		{"Demote", "/admin/users/" + dave.ID + "/demote", url.Values{}, "/admin#users", func(t *testing.T, p *page) {
			if user(t, dave.ID).Role != blog.RoleAuthor {
				t.Fatal("dave is still an admin")
			}
		}},
		{"Disable", "/admin/users/" + carol.ID + "/disable", url.Values{}, "/admin#users", func(t *testing.T, p *page) {
			if !user(t, carol.ID).Disabled {
				t.Fatal("carol is not disabled")
			}
		}},
		{"Enable", "/admin/users/" + erin.ID + "/enable", url.Values{}, "/admin#users", func(t *testing.T, p *page) {
			if user(t, erin.ID).Disabled {
				t.Fatal("erin is still disabled")
			}
		}},
		{"CreateInvite", "/admin/invites", url.Values{"role": {"admin"}, "expires": {"1d"}}, "", func(t *testing.T, p *page) {
			wantStatus(t, p, http.StatusOK)
			invites, err := srv.Store.ListInvites(t.Context())
			if err != nil || len(invites) != 2 || invites[0].Role != blog.RoleAdmin {
				t.Fatalf("invites after creating one: %+v %v", invites, err)
			}
			if d := invites[0].ExpiresAt.Sub(invites[0].CreatedAt); d < 23*60*60e9 || d > 24*60*60e9 {
				t.Fatalf("invite lasts %v, want a day", d)
			}
		}},
		{"RevokeInvite", "/admin/invites/" + inv.ID + "/revoke", url.Values{}, "/admin#invites", func(t *testing.T, p *page) {
			invites, err := srv.Store.ListInvites(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(invites, func(i blog.Invite) bool { return i.ID == inv.ID })
			if i < 0 || invites[i].Status(blog.Now()) != blog.InviteRevoked {
				t.Fatalf("invite not revoked: %+v", invites)
			}
		}},
		{"Settings", "/admin/settings", url.Values{"title": {"Field Notes"}, "description": {"Notes from the field"}}, "/admin#settings", func(t *testing.T, p *page) {
			s, err := srv.Store.Settings(t.Context())
			if err != nil || s != (blog.Settings{Title: "Field Notes", Description: "Notes from the field"}) {
				t.Fatalf("settings %+v %v", s, err)
			}
		}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			withToken := func(tok string) url.Values {
				form := url.Values{}
				for k, v := range f.fields {
					form[k] = v
				}
				if tok != "" {
					form.Set("_csrf", tok)
				}
				return form
			}
			before := adminState(t, srv)
			attacks := []struct {
				name   string
				client *apptest.Client
				form   url.Values
				header map[string]string
				status int
				where  string // the Location of a redirect
			}{
				{"NoToken", boss, withToken(""), nil, http.StatusForbidden, ""},
				{"CrossSite", boss, withToken(boss.CSRFToken(t, "/admin")), map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden, ""},
				{"ForeignOrigin", boss, withToken(boss.CSRFToken(t, "/admin")), map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, http.StatusForbidden, ""},
				{"Author", author, withToken(author.CSRFToken(t, "/write")), nil, http.StatusForbidden, ""},
				{"Anonymous", anon, withToken(anon.CSRFToken(t, "/login")), nil, http.StatusSeeOther, "/login?next=%2Fadmin"},
			}
			for _, a := range attacks {
				p := a.client.PostForm(t, f.action, a.form, a.header)
				if p.Status != a.status || p.Header.Get("Location") != a.where {
					t.Fatalf("%s: status %d to %q, want %d to %q\n%s", a.name, p.Status, p.Header.Get("Location"), a.status, a.where, p.Text())
				}
				if after := adminState(t, srv); after != before {
					t.Fatalf("%s changed the state:\n%s\nwas\n%s", a.name, after, before)
				}
			}
			p := boss.PostForm(t, f.action, withToken(boss.CSRFToken(t, "/admin")), nil)
			if f.redirect != "" {
				wantRedirect(t, p, f.redirect)
			}
			f.check(t, p)
		})
	}
	t.Run("Logged", func(t *testing.T) {
		logs := srv.Logs.String()
		for _, event := range []string{"admin.user.promote", "admin.user.disable", "invite.created", "invite.revoked", "site.settings.changed"} {
			if !strings.Contains(logs, `"event":"`+event+`"`) {
				t.Errorf("no %s in the log", event)
			}
		}
	})
}

func TestAdminLastAdmin(t *testing.T) { apptest.ForEachStore(t, testAdminLastAdmin) }

func testAdminLastAdmin(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	boss, me := signIn(t, srv, "boss", blog.RoleAdmin)
	for _, action := range []string{"demote", "disable"} {
		t.Run(action, func(t *testing.T) {
			before := adminState(t, srv)
			p := boss.Submit(t, "/admin", "/admin/users/"+me.ID+"/"+action, url.Values{})
			wantStatus(t, p, http.StatusConflict)
			wantText(t, p, "An instance needs at least one admin: make another admin first", `role="alert"`, "Save settings")
			if after := adminState(t, srv); after != before {
				t.Fatalf("refused %s changed the state:\n%s", action, after)
			}
		})
	}
	t.Run("UnknownAccount", func(t *testing.T) {
		p := boss.Submit(t, "/admin", "/admin/users/"+strings.Repeat("0", len(me.ID))+"/disable", url.Values{})
		wantStatus(t, p, http.StatusNotFound)
	})
	t.Run("UnknownAction", func(t *testing.T) {
		p := boss.Submit(t, "/admin", "/admin/users/"+me.ID+"/delete", url.Values{})
		wantStatus(t, p, http.StatusNotFound)
	})
	t.Run("DemoteSelfWithAnotherAdmin", func(t *testing.T) {
		addUser(t, srv, "heir", blog.RoleAdmin)
		p := boss.Submit(t, "/admin", "/admin/users/"+me.ID+"/demote", url.Values{})
		wantRedirect(t, p, "/")
		wantStatus(t, boss.Page(t, "/admin"), http.StatusForbidden)
	})
}

var inviteLinkRE = regexp.MustCompile(`value="(http://[^"]+/register\?invite=[A-Za-z0-9_-]{43})"`)

func TestAdminInviteShownOnce(t *testing.T) {
	srv := apptest.Start(t, nil)
	boss, _ := signIn(t, srv, "boss", blog.RoleAdmin)
	p := boss.Submit(t, "/admin", "/admin/invites", url.Values{"role": {"author"}, "expires": {"7d"}})
	wantStatus(t, p, http.StatusOK)
	m := inviteLinkRE.FindStringSubmatch(p.Text())
	if m == nil {
		t.Fatalf("no invite link on the result page:\n%s", p.Text())
	}
	link, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	token := link.Query().Get("invite")
	if !strings.HasPrefix(m[1], srv.Config.BaseURL.String()) {
		t.Fatalf("link %s is not on the base URL %s", m[1], srv.Config.BaseURL)
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the link may be cached")
	}
	invites, err := srv.Store.ListInvites(t.Context())
	if err != nil || len(invites) != 1 {
		t.Fatalf("invites: %+v %v", invites, err)
	}
	// Stored as its hash: the link redeems the invite made.
	if _, err := srv.Store.RedeemInvite(t.Context(), blog.InviteTokenHash(token), blog.NewUser{Username: "newcomer", PasswordHash: "x"}, blog.Now()); err != nil {
		t.Fatalf("the shown link does not redeem the invite: %v", err)
	}
	admin := boss.Page(t, "/admin")
	wantText(t, admin, "used", "newcomer")
	if strings.Contains(admin.Text(), token) {
		t.Fatal("the admin page shows the invite token again")
	}
	if strings.Contains(srv.Logs.String(), token) {
		t.Fatal("the invite token is in the log")
	}

	t.Run("BadChoices", func(t *testing.T) {
		before := adminState(t, srv)
		for _, form := range []url.Values{
			{"role": {"owner"}, "expires": {"7d"}},
			{"role": {"author"}, "expires": {"365d"}},
			{"role": {"author"}},
		} {
			p := boss.Submit(t, "/admin", "/admin/invites", form)
			wantStatus(t, p, http.StatusBadRequest)
			wantText(t, p, `role="alert"`)
			if inviteLinkRE.MatchString(p.Text()) {
				t.Fatal("a refused invite shows a link")
			}
		}
		if after := adminState(t, srv); after != before {
			t.Fatalf("refused invites changed the state:\n%s", after)
		}
	})
}

func TestAdminSettings(t *testing.T) { apptest.ForEachStore(t, testAdminSettings) }

func testAdminSettings(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	boss, _ := signIn(t, srv, "boss", blog.RoleAdmin)
	reader := newClient(t, srv)

	t.Run("Default", func(t *testing.T) {
		wantText(t, reader.Page(t, "/"), "<title>Newest posts · Palisade</title>", `<a class="brand" href="/">Palisade</a>`)
	})
	t.Run("Invalid", func(t *testing.T) {
		before := adminState(t, srv)
		for _, tc := range []struct {
			title, description, msg string
		}{
			{"   ", "", "Title is required"},
			{strings.Repeat("t", blog.SiteTitleMax+1), "", "Title too long"},
			{"Fine", strings.Repeat("d", blog.SiteDescriptionMax+1), "Description too long"},
		} {
			p := boss.Submit(t, "/admin", "/admin/settings", url.Values{"title": {tc.title}, "description": {tc.description}})
			wantStatus(t, p, http.StatusBadRequest)
			wantText(t, p, `role="alert"`, tc.msg)
			// The form shows what was typed, to correct it.
			if tc.description != "" {
				wantText(t, p, tc.description+"</textarea>")
			}
		}
		if after := adminState(t, srv); after != before {
			t.Fatalf("refused settings changed the state:\n%s", after)
		}
	})
	t.Run("ShownOnEveryPage", func(t *testing.T) {
		p := boss.Submit(t, "/admin", "/admin/settings", url.Values{"title": {"  Notes <&> Such\u200b "}, "description": {"Small things, <b>written</b> down."}})
		wantRedirect(t, p, "/admin#settings")
		s, err := srv.Store.Settings(t.Context())
		if err != nil || s.Title != "Notes <&> Such" {
			t.Fatalf("stored %+v %v, want the cleaned title", s, err)
		}
		// The change is seen at once on this instance, escaped.
		for _, path := range []string{"/", "/login", "/no-such-page"} {
			p := reader.Page(t, path)
			wantText(t, p, " · Notes &lt;&amp;&gt; Such</title>", `<a class="brand" href="/">Notes &lt;&amp;&gt; Such</a>`,
				`<p class="tagline">Small things, &lt;b&gt;written&lt;/b&gt; down.</p>`, `<meta name="description" content="Small things, &lt;b&gt;written&lt;/b&gt; down.">`)
		}
		wantText(t, boss.Page(t, "/admin"), "Site settings saved.", `value="Notes &lt;&amp;&gt; Such"`)
		// The notice is shown once.
		if strings.Contains(boss.Page(t, "/admin").Text(), "Site settings saved.") {
			t.Fatal("the notice is shown twice")
		}
	})
}

// TestSiteSettingsCached: pages read the settings from the cache, not the
// database: twenty pages in a row cost one read. When the read fails, the
// pages still show, with the default title, and the failure is logged
// once, without the driver's message reaching the page.
func TestSiteSettingsCached(t *testing.T) {
	srv := apptest.Start(t, nil)
	if err := srv.Store.SetSettings(t.Context(), blog.Settings{Title: "Counted"}); err != nil {
		t.Fatal(err)
	}
	reader := newClient(t, srv)

	t.Run("OneReadForManyPages", func(t *testing.T) {
		st := &settingsCounter{Store: srv.Store}
		srv.SwapStore(t, st)
		for i := range 20 {
			p := reader.Page(t, []string{"/", "/login", "/register", "/no-such-page"}[i%4])
			wantText(t, p, " · Counted</title>")
		}
		if n := st.reads.Load(); n != 1 {
			t.Fatalf("%d settings reads for 20 pages, want 1", n)
		}
	})
	t.Run("OutageShowsDefaults", func(t *testing.T) {
		st := &settingsCounter{Store: srv.Store, fail: true}
		srv.SwapStore(t, st)
		for range 5 {
			p := reader.Page(t, "/")
			wantStatus(t, p, http.StatusOK)
			wantText(t, p, "<title>Newest posts · Palisade</title>")
			if strings.Contains(p.Text(), "db.internal") {
				t.Fatal("the store's error reached the page")
			}
		}
		if n := st.reads.Load(); n != 1 {
			t.Fatalf("%d settings reads during an outage, want 1 (one per sitesettings.MaxAge)", n)
		}
		if n := strings.Count(srv.Logs.String(), "reading the site settings failed"); n != 1 {
			t.Fatalf("the failed read is logged %d times, want once", n)
		}
	})
}

// settingsCounter counts the store's settings reads and can make them
// fail.
type settingsCounter struct {
	blog.Store
	reads atomic.Int64
	fail  bool
}

func (s *settingsCounter) Settings(ctx context.Context) (blog.Settings, error) {
	s.reads.Add(1)
	if s.fail {
		return blog.Settings{}, errors.New(`connection to "db.internal:5432" refused`)
	}
	return s.Store.Settings(ctx)
}
