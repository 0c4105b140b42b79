package web_test

import (
	"strings"
	"testing"
	"time"

	cdpnetwork "github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/web"
)

// TestBrowserTwoFactor walks an admin of a site that requires two-factor
// sign-in of its admins through it in Chromium: held on the account page
// at first, they set up an authenticator app as a person does (the QR
// code loads from the site, under the page's CSP), confirm it's them
// after their sign-in grew old, then sign in with the password and a
// code, and again with a recovery code, at desktop and phone widths. The
// harness fails the test on any console error, script or CSP violation;
// screenshots of each page are left in $PALISADE_SCREENSHOT_DIR or a
// temporary directory.
func TestBrowserTwoFactor(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, twoFactorEnv("admins"))
	dir := apptest.ScreenshotDir(t)
	const user = "grace_hopper"
	addUser(t, srv, user, blog.RoleAdmin)
	var (
		paths []string
		app   *authenticator
		codes []string
	)
	shoot := func(t *testing.T, name string) {
		t.Helper()
		paths = append(paths, b.Screenshot(t, dir, name, true))
	}
	phone := func(t *testing.T) {
		t.Helper()
		b.Do(t, "set a phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	}
	desktop := func(t *testing.T) {
		t.Helper()
		b.Do(t, "set a desktop viewport", chromedp.EmulateViewport(1280, 800))
	}
	signInWithPassword := func(t *testing.T) {
		t.Helper()
		b.Navigate(t, srv.URL+"/login")
		b.Fill(t, "username", user)
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantLocation(t, srv.URL+"/login/2fa")
		b.WantText(t, "Two-factor sign-in", "recovery codes")
		b.WantNoText(t, "Signed in as")
	}

	apptest.Step(t, "held on the account page", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/login")
		b.Fill(t, "username", user)
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantLocation(t, srv.URL+"/account")
		b.WantText(t, "Your account", "Two-factor sign-in is required for this account", "Off.")
		shoot(t, "account-required-desktop.png")
		b.ClickAndWait(t, `header.site a[href="/write"]`)
		b.WantLocation(t, srv.URL+"/account")
	})
	apptest.Step(t, "setup page", func(t *testing.T) {
		b.ClickAndWait(t, `a[href="/account/2fa/totp"]`)
		b.WantLocation(t, srv.URL+"/account/2fa/totp")
		b.WantText(t, "Set up an authenticator app", "scan this QR code", "Code from the app")
		// The image came from the site and decoded: a blocked or broken
		// one has no natural size.
		if w := apptest.BrowserEval[int](t, b, `document.querySelector("img.qr").naturalWidth`); w < 100 {
			t.Fatalf("QR code image is %d pixels wide: not loaded", w)
		}
		if alt := apptest.BrowserEval[string](t, b, `document.querySelector("img.qr").alt`); alt == "" {
			t.Error("the QR code has no text alternative")
		}
		if n := b.Count(t, "script"); n != 0 {
			t.Errorf("the setup page has %d scripts", n)
		}
		shoot(t, "totp-setup-desktop.png")
		phone(t)
		b.Navigate(t, srv.URL+"/account/2fa/totp") // a new secret, the one to use
		shoot(t, "totp-setup-phone.png")
		desktop(t)
	})
	apptest.Step(t, "turn it on", func(t *testing.T) {
		secret := apptest.BrowserEval[string](t, b, `document.getElementById("secret").textContent.replaceAll(" ", "")`)
		app = &authenticator{secret: secret}
		b.Fill(t, "code", app.code(t))
		b.Submit(t)
		b.WantText(t, "Two-factor sign-in is on", "Your recovery codes", "shown only this once")
		codes = apptest.BrowserEval[[]string](t, b, `Array.from(document.querySelectorAll("ol.codes code"), c => c.textContent)`)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown", len(codes))
		}
		shoot(t, "recovery-codes-desktop.png")
		b.ClickAndWait(t, `main a.button[href="/account"]`)
		b.WantText(t, "On.", "Recovery codes left: 10", "New recovery codes", "Turn off")
		shoot(t, "account-totp-desktop.png")
		// The site is open now.
		b.ClickAndWait(t, `header.site a[href="/admin"]`)
		b.WantLocation(t, srv.URL+"/admin")
	})
	apptest.Step(t, "confirm it's you", func(t *testing.T) {
		res, err := chromedp.Call(b.Context(), cdpnetwork.GetCookies, cdpnetwork.GetCookiesParams{URLs: []string{srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		var session string
		for _, c := range res.Cookies {
			if c.Name == "palisade_session" {
				session = c.Value
			}
		}
		if err := web.AgeSignIn(t.Context(), srv.Store, session, 11*time.Minute); err != nil {
			t.Fatal(err)
		}
		b.Navigate(t, srv.URL+"/account")
		b.ClickAndWait(t, `a[href="/account/2fa/recovery"]`)
		b.WantText(t, "Confirm it’s you", "Password", "Or a code")
		shoot(t, "reauth-desktop.png")
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantLocation(t, srv.URL+"/account/2fa/recovery")
		b.WantText(t, "Make new recovery codes?")
	})
	apptest.Step(t, "sign out", func(t *testing.T) {
		b.ClickAndWait(t, `header.site button.link`)
		b.WantNoText(t, "Signed in as")
	})
	apptest.Step(t, "sign in with a code", func(t *testing.T) {
		signInWithPassword(t)
		if got := apptest.BrowserEval[string](t, b, `document.getElementById("code").autocomplete`); got != "one-time-code" {
			t.Errorf("code field autocomplete = %q", got)
		}
		shoot(t, "second-factor-desktop.png")
		b.Fill(t, "code", app.code(t))
		b.Submit(t)
		b.WantLocation(t, srv.URL+"/")
		b.WantText(t, "Signed in as "+user)
		b.ClickAndWait(t, `header.site button.link`)
	})
	apptest.Step(t, "sign in with a recovery code on a phone", func(t *testing.T) {
		phone(t)
		signInWithPassword(t)
		shoot(t, "second-factor-phone.png")
		b.Fill(t, "code", strings.ToUpper(codes[0]))
		b.Submit(t)
		b.WantText(t, user, "Sign out") // a phone shows no "Signed in as"
		b.Navigate(t, srv.URL+"/account")
		b.WantText(t, "Recovery codes left: 9")
		shoot(t, "account-totp-phone.png")
	})
	t.Logf("screenshots written to %s:\n  %s", dir, strings.Join(paths, "\n  "))
}
