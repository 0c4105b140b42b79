package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestSetupPage: the setup link makes the first admin and signs them in;
// a wrong link, a forged form and a second use are refused and store
// nothing; once an admin exists the page is not found; the token is in no
// log line of the server's.
func TestSetupPage(t *testing.T) { apptest.ForEachStore(t, testSetupPage) }

func testSetupPage(t *testing.T, st apptest.Store) {
	// Closed registration: the setup link is the only way in.
	srv := st.Start(t, map[string]string{"PALISADE_REGISTRATION": "closed"})
	if srv.SetupURL == "" {
		t.Fatal("a fresh instance has no setup link")
	}
	u, err := url.Parse(srv.SetupURL)
	if err != nil {
		t.Fatal(err)
	}
	token, path := u.Query().Get("token"), u.RequestURI()
	claim := func(name, tok string) url.Values {
		return url.Values{"token": {tok}, "username": {name}, "password": {apptest.Password}}
	}
	admins := func(t *testing.T) int {
		t.Helper()
		us, err := srv.Store.ListUsers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, u := range us {
			if u.Role == blog.RoleAdmin {
				n++
			}
		}
		return n
	}

	t.Run("BadToken", func(t *testing.T) {
		b := newClient(t, srv)
		other, _ := blog.NewInviteToken()
		for _, p := range []string{"/setup", "/setup?token=", "/setup?token=" + other, "/setup?token=" + token[:20]} {
			p := b.Page(t, p)
			wantStatus(t, p, http.StatusForbidden)
			if !strings.Contains(p.Text(), "This setup link is invalid, used or expired.") {
				t.Errorf("the page does not say why:\n%s", p.Text())
			}
		}
		wantStatus(t, b.Submit(t, path, "/setup", claim("intruder", other)), http.StatusForbidden)
		if n := admins(t); n != 0 {
			t.Fatalf("%d admins after a wrong token", n)
		}
	})
	t.Run("CrossSiteForm", func(t *testing.T) {
		b := newClient(t, srv)
		f := claim("forged", token)
		f.Set("_csrf", b.CSRFToken(t, path))
		wantStatus(t, b.PostForm(t, "/setup", f, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}), http.StatusForbidden)
		wantStatus(t, b.PostForm(t, "/setup", claim("forged", token), nil), http.StatusForbidden) // no CSRF token
		if n := admins(t); n != 0 {
			t.Fatalf("%d admins after a forged form", n)
		}
	})
	t.Run("FormMistakeKeepsTheLink", func(t *testing.T) {
		b := newClient(t, srv)
		p := b.Submit(t, path, "/setup", url.Values{"token": {token}, "username": {"owner"}, "password": {"short"}})
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Text(), "Password too short") {
			t.Errorf("no message:\n%s", p.Text())
		}
		wantStatus(t, b.Page(t, path), http.StatusOK)
	})
	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		const n = 4
		clients := make([]*apptest.Client, n)
		forms := make([]url.Values, n)
		for i := range n {
			clients[i] = newClient(t, srv)
			forms[i] = claim("owner"+string(rune('a'+i)), token)
			forms[i].Set("_csrf", clients[i].CSRFToken(t, path))
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = clients[i].PostForm(t, "/setup", forms[i], nil).Status })
		}
		wg.Wait()
		won := 0
		for i, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				won++
				if home := clients[i].Page(t, "/"); !strings.Contains(home.Text(), "Signed in as </span><strong>owner"+string(rune('a'+i))) {
					t.Errorf("the winner is not signed in:\n%s", home.Text())
				}
			case http.StatusForbidden, http.StatusNotFound:
			default:
				t.Errorf("claim answered %d", s)
			}
		}
		if won != 1 || admins(t) != 1 {
			t.Fatalf("%d claims won, %d admins (statuses %v)", won, admins(t), statuses)
		}
	})
	t.Run("GoneOnceClaimed", func(t *testing.T) {
		b := newClient(t, srv)
		for _, p := range []string{path, "/setup"} {
			wantStatus(t, b.Page(t, p), http.StatusNotFound)
		}
		wantStatus(t, b.Submit(t, "/login", "/setup", claim("late", token)), http.StatusNotFound)
		if n := admins(t); n != 1 {
			t.Fatalf("%d admins", n)
		}
	})
	t.Run("TokenNotLogged", func(t *testing.T) {
		if strings.Contains(srv.Logs.String(), token) {
			t.Fatalf("the setup token is in the server's log:\n%s", srv.Logs)
		}
		if !strings.Contains(srv.Logs.String(), `"event":"instance.claimed"`) {
			t.Errorf("no audit line for the claim:\n%s", srv.Logs)
		}
	})
}
