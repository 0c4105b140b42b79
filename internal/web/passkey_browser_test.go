package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestBrowserPasskeys walks a person through passkeys in Chromium, with
// its virtual authenticator standing in for a phone or laptop (a
// platform authenticator that keeps discoverable credentials and verifies
// its user): add one on /account, sign out, sign in with the passkey
// alone, then with the password and the passkey as the second step; the
// same server reached at another origin (127.0.0.1 rather than localhost)
// can't use it; remove it, after which it signs no one in. The harness
// fails the test on any console error, exception or CSP violation, so
// passkey.js runs under the pages' CSP and Trusted Types. Screenshots of
// /account with a passkey and of the passkey sign-in are left with the
// other browser tests'.
func TestBrowserPasskeys(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv, _ := passkeyServer(t, apptest.Stores()[0])
	base := strings.TrimSuffix(srv.Config.BaseURL.String(), "/")
	dir := apptest.ScreenshotDir(t)
	const user = "ada_lovelace"
	var paths []string
	shoot := func(t *testing.T, name string) {
		t.Helper()
		paths = append(paths, b.Screenshot(t, dir, name, true))
	}
	// A refused passkey is a 401 from the finish endpoint, which Chromium
	// logs as a failed resource: expected once, at the end.
	b.AllowLogError(func(e *cdplog.Entry) bool {
		return e.Source == cdplog.EntrySourceNetwork && strings.HasSuffix(e.URL, "/login/passkey/finish")
	})

	if _, err := chromedp.Call(b.Context(), webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enable WebAuthn: %v", err)
	}
	added, err := chromedp.Call(b.Context(), webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("add a virtual authenticator: %v", err)
	}
	credentials := func(t *testing.T) []*webauthn.Credential {
		t.Helper()
		res, err := chromedp.Call(b.Context(), webauthn.GetCredentials, webauthn.GetCredentialsParams(added))
		if err != nil {
			t.Fatal(err)
		}
		return res.Credentials
	}
	// usePasskey presses a passkey form's button.
	usePasskey := func(t *testing.T, kind string) {
		t.Helper()
		b.Do(t, "press the "+kind+" passkey button", chromedp.Click(chromedp.CSS(`form[data-passkey="`+kind+`"] button`)))
	}
	signOut := func(t *testing.T) {
		t.Helper()
		b.ClickAndWait(t, `header.site button.link`)
		b.WantNoText(t, "Signed in as")
	}

	apptest.Step(t, "register", func(t *testing.T) {
		b.Navigate(t, base+"/register")
		b.Fill(t, "username", user)
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantText(t, "Signed in as "+user)
	})
	apptest.Step(t, "add a passkey", func(t *testing.T) {
		b.Navigate(t, base+"/account")
		b.WantText(t, "Passkeys", "You have no passkeys yet", "Add a passkey")
		b.Fill(t, "passkey-name", "Laptop")
		usePasskey(t, "register")
		waitForPage(t, b, `location.pathname === "/account" && document.body.innerText.includes("Passkey “Laptop” added")`)
		b.WantText(t, "Never", "No, this device only")
		if got := apptest.BrowserEval[string](t, b, `document.querySelector("table.passkeys input[name=name]").value`); got != "Laptop" {
			t.Errorf("passkey listed as %q", got)
		}
		creds := credentials(t)
		if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
			t.Fatalf("the authenticator holds %+v", creds)
		}
		shoot(t, "account-passkey-desktop.png")
		b.Do(t, "set a phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		b.Navigate(t, base+"/account")
		shoot(t, "account-passkey-phone.png")
		b.Do(t, "set a desktop viewport", chromedp.EmulateViewport(1280, 800))
		signOut(t)
	})
	apptest.Step(t, "sign in with the passkey alone", func(t *testing.T) {
		b.Navigate(t, base+"/login?next=%2Fwrite")
		b.WantText(t, "Or use a passkey", "Sign in with a passkey")
		shoot(t, "passkey-sign-in-desktop.png")
		usePasskey(t, "signin")
		b.WaitForPage(t, base+"/write")
		b.WantText(t, "Signed in as "+user)
		signOut(t)
	})
	apptest.Step(t, "password and passkey", func(t *testing.T) {
		b.Navigate(t, base+"/login?next=%2Faccount")
		b.Fill(t, "username", user)
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantLocation(t, base+"/login/2fa")
		b.WantText(t, "Your password was right. Now use one of your passkeys.", "Use a passkey")
		if n := b.Count(t, "#code"); n != 0 {
			t.Error("a code field for an account without an authenticator app")
		}
		shoot(t, "passkey-second-step-desktop.png")
		usePasskey(t, "second-factor")
		b.WaitForPage(t, base+"/account")
		b.WantText(t, "Signed in as "+user)
		signOut(t)
	})
	apptest.Step(t, "another origin can't use it", func(t *testing.T) {
		// The same server, reached at its IP address: a different origin,
		// which the passkey (made for localhost) is not for.
		b.Navigate(t, srv.URL+"/login")
		usePasskey(t, "signin")
		waitForPage(t, b, `document.querySelector('form[data-passkey="signin"] .passkey-status').textContent.includes("can't be used at this address")`)
		b.WantNoText(t, "Signed in as")
	})
	apptest.Step(t, "remove it", func(t *testing.T) {
		b.Navigate(t, base+"/login?next=%2Faccount")
		usePasskey(t, "signin")
		b.WaitForPage(t, base+"/account")
		b.ClickAndWait(t, `a[aria-label="Remove passkey Laptop"]`)
		b.WantText(t, "Remove the passkey “Laptop”?")
		if n := b.Count(t, "script"); n != 0 {
			t.Errorf("the removal page has %d scripts", n)
		}
		b.ClickAndWait(t, `main form button.danger`)
		b.WantText(t, "Passkey “Laptop” removed", "You have no passkeys yet")
		signOut(t)
	})
	apptest.Step(t, "removed, it signs no one in", func(t *testing.T) {
		b.Navigate(t, base+"/login")
		usePasskey(t, "signin")
		waitForPage(t, b, `document.querySelector('form[data-passkey="signin"] .passkey-status').textContent === "The passkey could not be verified."`)
		b.WantNoText(t, "Signed in as")
	})
	t.Logf("screenshots written to %s:\n  %s", dir, strings.Join(paths, "\n  "))
}

// waitForPage waits until cond, a JavaScript expression, is true in a
// loaded page: for what passkey.js does after its requests, which no
// navigation event marks.
func waitForPage(t *testing.T, b *apptest.Browser, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Context(), 2*time.Second)
		// Errors are expected while a navigation replaces the document.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("page %s never showed %s; it shows:\n%s", b.Location(t), cond, b.Text(t))
}
