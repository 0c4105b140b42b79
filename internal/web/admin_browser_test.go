package web_test

import (
	"strings"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestBrowserAdmin drives the admin page in Chromium as its admin does:
// change the site's title, make an invite, try to demote the last admin.
// Every page is checked for console errors and CSP violations (the
// harness fails the test on any), and screenshots of the admin page and
// the invite page are left in $PALISADE_SCREENSHOT_DIR or a temporary
// directory.
func TestBrowserAdmin(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)
	dir := apptest.ScreenshotDir(t)
	boss := addUser(t, srv, "grace_hopper", blog.RoleAdmin)
	addUser(t, srv, "ada_lovelace", blog.RoleAuthor)
	off := addUser(t, srv, "a_rather_long_username_here_1234", blog.RoleAuthor)
	if err := srv.Store.DisableUser(t.Context(), off.ID); err != nil {
		t.Fatal(err)
	}
	_, hash := blog.NewInviteToken()
	if _, err := srv.Store.CreateInvite(t.Context(), blog.NewInvite{TokenHash: hash, Role: blog.RoleAdmin, CreatedBy: boss.ID, ExpiresAt: blog.Now().Add(blog.DefaultInviteLifetime)}); err != nil {
		t.Fatal(err)
	}
	// The refused demotion answers 409, which Chromium logs as a failed
	// load of that one page.
	b.AllowLogError(func(e *cdplog.Entry) bool {
		return e.Source == cdplog.EntrySourceNetwork && strings.Contains(e.Text, "status of 409") &&
			strings.HasPrefix(e.URL, srv.URL+"/admin/users/"+boss.ID+"/demote")
	})
	var paths []string

	apptest.Step(t, "sign in", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/login")
		b.Fill(t, "username", "grace_hopper")
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantText(t, "Signed in as grace_hopper", "Admin")
	})
	apptest.Step(t, "admin page", func(t *testing.T) {
		b.ClickAndWait(t, `header.site a[href="/admin"]`)
		b.WantLocation(t, srv.URL+"/admin")
		b.WantText(t, "Accounts", "ada_lovelace", "disabled", "Invites", "pending", "Site settings")
		paths = append(paths, b.Screenshot(t, dir, "admin-desktop.png", true))
	})
	apptest.Step(t, "site title", func(t *testing.T) {
		b.Fill(t, "site-title", "Field Notes")
		b.Fill(t, "site-description", "Small things, written down.")
		b.Submit(t)
		b.WantText(t, "Site settings saved.", "Small things, written down.")
		if got := b.TextContent(t, "header.site .brand"); got != "Field Notes" {
			t.Errorf("header brand = %q, want Field Notes", got)
		}
		if got := apptest.BrowserEval[string](t, b, `document.title`); got != "Admin · Field Notes" {
			t.Errorf("document.title = %q", got)
		}
	})
	apptest.Step(t, "invite", func(t *testing.T) {
		if status := b.ClickAndWait(t, `form[action="/admin/invites"] button[type=submit]`); status != 200 {
			t.Fatalf("creating an invite gave HTTP %d", status)
		}
		b.WantText(t, "Invite link", "shown only this once")
		link := apptest.BrowserEval[string](t, b, `document.getElementById("invite-link").value`)
		if !strings.HasPrefix(link, srv.Config.BaseURL.String()+"/register?invite=") {
			t.Errorf("invite link = %q", link)
		}
		paths = append(paths, b.Screenshot(t, dir, "admin-invite-desktop.png", true))
	})
	apptest.Step(t, "last admin", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/admin")
		if status := b.ClickAndWait(t, `form[action="/admin/users/`+boss.ID+`/demote"] button`); status != 409 {
			t.Fatalf("demoting the last admin gave HTTP %d", status)
		}
		b.WantText(t, "An instance needs at least one admin")
	})
	apptest.Step(t, "phone", func(t *testing.T) {
		b.Do(t, "set the viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		b.Navigate(t, srv.URL+"/admin")
		paths = append(paths, b.Screenshot(t, dir, "admin-phone.png", true))
	})
	t.Logf("screenshots written to %s:\n  %s", dir, strings.Join(paths, "\n  "))
}
