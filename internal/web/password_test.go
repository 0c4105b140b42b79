package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

const changedPassword = "a brand new passphrase, long enough"

// changeForm is the password form's fields.
func changeForm(current, next string) url.Values {
	return url.Values{"current_password": {current}, "new_password": {next}}
}

func TestChangePassword(t *testing.T) { apptest.ForEachStore(t, testChangePassword) }

// testChangePassword: the account page links to the form; a refused form
// shows its messages without the passwords typed; a change keeps this
// browser signed in and signs the other one out.
func testChangePassword(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	alice := newClient(t, srv)
	register(t, alice, "alice")
	other := passwordOnly(t, srv, "alice")

	wantText(t, alice.Page(t, "/account"), `href="/account/password"`)
	p := alice.Page(t, "/account/password")
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, `autocomplete="current-password"`, `autocomplete="new-password"`, `name="username" value="alice" autocomplete="username"`)
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", p.Header.Get("Cache-Control"))
	}

	for _, tc := range []struct{ name, current, next, want string }{
		{"WrongCurrent", "not the password at all", changedPassword, "Current password is wrong"},
		{"WeakNew", apptest.Password, "password12345678!", "Password is too common: choose another"},
		{"SameAsCurrent", apptest.Password, apptest.Password, "New password must differ from the current one"},
		{"MissingNew", apptest.Password, "", "Required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.Submit(t, "/account/password", "/account/password", changeForm(tc.current, tc.next))
			wantStatus(t, p, http.StatusBadRequest)
			wantText(t, p, tc.want)
			for _, typed := range []string{tc.current, tc.next} {
				if typed != "" && strings.Contains(p.Text(), typed) {
					t.Fatalf("the page echoes a password typed: %q", typed)
				}
			}
		})
	}
	if signedInAs(t, other) != "alice" {
		t.Fatal("a refused change signed the other browser out")
	}

	wantRedirect(t, alice.Submit(t, "/account/password", "/account/password", changeForm(apptest.Password, changedPassword)), "/account")
	wantText(t, alice.Page(t, "/account"), "Password changed. Your other sessions were signed out.")
	if who := signedInAs(t, alice); who != "alice" {
		t.Fatalf("this browser is signed in as %q after the change, want alice", who)
	}
	if who := signedInAs(t, other); who != "" {
		t.Fatalf("the other browser is still signed in as %q", who)
	}
	t.Run("NewPasswordSignsIn", func(t *testing.T) {
		c := newClient(t, srv)
		wantStatus(t, c.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}}), http.StatusUnauthorized)
		wantRedirect(t, c.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {changedPassword}}), "/")
	})
}

func TestChangePasswordCSRF(t *testing.T) { apptest.ForEachStore(t, testChangePasswordCSRF) }

// testChangePasswordCSRF: the form without its token, or from another
// site, changes nothing, though it carries the right password.
func testChangePasswordCSRF(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	alice := newClient(t, srv)
	register(t, alice, "alice")
	for _, a := range []struct {
		name    string
		noToken bool
		headers map[string]string
	}{
		{"NoToken", true, nil},
		{"CrossSite", false, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
	} {
		t.Run(a.name, func(t *testing.T) {
			form := changeForm(apptest.Password, changedPassword)
			if !a.noToken {
				form.Set("_csrf", alice.CSRFToken(t, "/account/password"))
			}
			p := alice.PostForm(t, "/account/password", form, a.headers)
			wantStatus(t, p, http.StatusForbidden)
			wantText(t, p, "Invalid CSRF token")
		})
	}
	// Unchanged: the old password still signs in.
	passwordOnly(t, srv, "alice")
	if signedInAs(t, alice) != "alice" {
		t.Fatal("a refused change signed this browser out")
	}
}

// TestChangePasswordWaitsForEnrolment: an account the policy holds until
// it has a second factor can't change its password yet, as on the API.
func TestChangePasswordWaitsForEnrolment(t *testing.T) {
	srv := apptest.Start(t, twoFactorEnv("all"))
	alice := newClient(t, srv)
	register(t, alice, "alice")
	wantRedirect(t, alice.Page(t, "/account/password"), "/account")
	form := changeForm(apptest.Password, changedPassword)
	form.Set("_csrf", alice.CSRFToken(t, "/account"))
	p := alice.PostForm(t, "/account/password", form, nil)
	wantStatus(t, p, http.StatusForbidden)
	wantText(t, p, "set it up first")
	if strings.Contains(alice.Page(t, "/account").Text(), `href="/account/password"`) {
		t.Fatal("the account page offers a password change the policy refuses")
	}
	passwordOnly(t, srv, "alice")
}
