package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestBrowserTwoFactor sets up an authenticator app in Chromium as a
// person does (the QR code loads from the site, under the page's CSP),
// then signs in with the password and a code, and again with a recovery
// code, at desktop and phone widths. The harness fails the test on any
// console error, script or CSP violation; screenshots of the setup page,
// the recovery codes, the second step and the account page are left in
// $PALISADE_SCREENSHOT_DIR or a temporary directory.
func TestBrowserTwoFactor(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, twoFactorEnv("none"))
	dir := apptest.ScreenshotDir(t)
	const user = "grace_hopper"
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

	b.Register(t, srv, user)

	apptest.Step(t, "account page", func(t *testing.T) {
		b.ClickAndWait(t, `header.site a[href="/account"]`)
		b.WantLocation(t, srv.URL+"/account")
		b.WantText(t, "Your account", "Two-factor sign-in", "Off.")
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
