package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/web"
)

// twoFactorEnv is the configuration of the two-factor tests: no policy
// unless a test sets one, and room for the wrong codes they type (the
// sign-in limit is per client, and every test client is 127.0.0.1).
func twoFactorEnv(policy string) map[string]string {
	return map[string]string{"PALISADE_REQUIRE_2FA": policy, "PALISADE_LOGIN_RATE_LIMIT": "100/15m"}
}

// authenticator is the test's authenticator app: it computes codes from
// the secret the setup page showed, each for a later time step than the
// last (the server refuses a step it has seen), within the step of skew
// the server allows ahead of now.
type authenticator struct {
	secret string
	last   int64 // the last step a code was made for
}

const step = 30 // seconds, as every authenticator app counts them

func (a *authenticator) codeAt(t *testing.T, s int64) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(a.secret, time.Unix(s*step, 0), totp.ValidateOpts{Period: step, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// code is a code the server accepts now and has not seen: the current
// step's, or the next one's (within the skew) when the current one was
// used. A third code in one step waits for the next step rather than
// fail.
func (a *authenticator) code(t *testing.T) string {
	t.Helper()
	cur := time.Now().Unix() / step
	s := max(a.last+1, cur)
	if s > cur+1 {
		time.Sleep(time.Until(time.Unix((s-1)*step, 0)))
	}
	a.last = s
	return a.codeAt(t, s)
}

// wrongCode is six digits that match no step the server could accept
// around now.
func (a *authenticator) wrongCode(t *testing.T) string {
	t.Helper()
	cur := time.Now().Unix() / step
	var near []string
	for s := cur - 2; s <= cur+2; s++ {
		near = append(near, a.codeAt(t, s))
	}
	for _, c := range []string{"000000", "123456", "987654", "555555", "314159", "271828"} {
		if !slices.Contains(near, c) {
			return c
		}
	}
	t.Fatal("every candidate wrong code is right")
	return ""
}

var (
	secretField   = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)
	recoveryField = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)
)

// startSetup opens the setup page and returns it with the app that read
// its secret.
func startSetup(t *testing.T, c *apptest.Client) (*page, *authenticator) {
	t.Helper()
	p := c.Page(t, "/account/2fa/totp")
	wantStatus(t, p, http.StatusOK)
	m := secretField.FindStringSubmatch(p.Text())
	if m == nil {
		t.Fatalf("no secret on the setup page:\n%s", p.Text())
	}
	return p, &authenticator{secret: strings.ReplaceAll(m[1], " ", "")}
}

// formToken is the CSRF token of a page's first form.
func formToken(t *testing.T, p *page) string {
	t.Helper()
	tok, ok := apptest.CSRFField(p.Text())
	if !ok {
		t.Fatalf("no CSRF field on the page:\n%s", p.Text())
	}
	return tok
}

// enrol sets up an authenticator app for c's account, as a person does
// on the setup page, and returns the app and the recovery codes shown.
func enrol(t *testing.T, c *apptest.Client) (*authenticator, []string) {
	t.Helper()
	p, app := startSetup(t, c)
	done := c.PostForm(t, "/account/2fa/totp/confirm", url.Values{"_csrf": {formToken(t, p)}, "code": {app.code(t)}}, nil)
	wantStatus(t, done, http.StatusOK)
	var codes []string
	for _, m := range recoveryField.FindAllStringSubmatch(done.Text(), -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10:\n%s", len(codes), done.Text())
	}
	return app, codes
}

// passwordStep submits the sign-in form for username (with next, if not
// empty) on a new client and checks it is sent to the second step.
func passwordStep(t *testing.T, srv *apptest.Server, username, next string) *apptest.Client {
	t.Helper()
	c := newClient(t, srv)
	form := url.Values{"username": {username}, "password": {apptest.Password}}
	if next != "" {
		form.Set("next", next)
	}
	wantRedirect(t, c.Submit(t, "/login", "/login", form), "/login/2fa")
	return c
}

// secondStep submits code on the second step's page.
func secondStep(t *testing.T, c *apptest.Client, code string) *page {
	t.Helper()
	return c.Submit(t, "/login/2fa", "/login/2fa", url.Values{"code": {code}})
}

// signedInAs reports who the client is signed in as, "" for nobody.
func signedInAs(t *testing.T, c *apptest.Client) string {
	t.Helper()
	m := regexp.MustCompile(`Signed in as </span><strong>([^<]+)</strong>`).FindStringSubmatch(c.Page(t, "/").Text())
	if m == nil {
		return ""
	}
	return m[1]
}

// twoFactorState is what the second-factor forms can change about an
// account, as one string a test compares before and after.
func twoFactorState(t *testing.T, srv *apptest.Server, userID string) string {
	t.Helper()
	u, err := srv.Store.UserByID(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := srv.Store.TwoFactor(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tf.RecoveryCodes)
	return fmt.Sprintf("totp=%v enabled=%v secret=%q lastStep=%d version=%d codes=%q",
		u.TOTP, tf.TOTPEnabled, tf.TOTPSecret, tf.TOTPLastStep, u.TokenVersion, tf.RecoveryCodes)
}

// ageSignIn makes c's sign-in look older than the re-authentication
// window.
func ageSignIn(t *testing.T, srv *apptest.Server, c *apptest.Client) {
	t.Helper()
	var sessions blog.SessionStore = srv.Store
	if srv.Redis != nil {
		sessions = srv.Redis.Sessions()
	}
	ck := c.Cookie("palisade_session")
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if err := web.AgeSignIn(t.Context(), sessions, ck.Value, 11*time.Minute); err != nil {
		t.Fatal(err)
	}
}

func userID(t *testing.T, srv *apptest.Server, username string) string {
	t.Helper()
	u, err := srv.Store.UserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestTwoFactorJourney(t *testing.T) { apptest.ForEachStore(t, testTwoFactorJourney) }

// testTwoFactorJourney walks one account through two-factor sign-in as a
// person would, with codes computed from the secret the page shows.
func testTwoFactorJourney(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	alice := newClient(t, srv)
	register(t, alice, "alice")
	elsewhere := passwordOnly(t, srv, "alice") // another browser, signed in before
	var (
		app   *authenticator
		codes []string
		used  string // the code the second step accepted
	)

	t.Run("AccountPage", func(t *testing.T) {
		p := alice.Page(t, "/account")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `<a href="/account">Account</a>`, "Username</dt><dd>alice</dd>", "Off.", `href="/account/2fa/totp"`, "Set up an authenticator app")
	})
	t.Run("SetupPage", func(t *testing.T) {
		p, a := startSetup(t, alice)
		app = a
		wantText(t, p, `<img class="qr" src="/account/2fa/totp/qr.png" alt="QR code">`, `autocomplete="one-time-code"`)
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("setup page Cache-Control = %q", p.Header.Get("Cache-Control"))
		}
		if len(app.secret) != 32 {
			t.Errorf("secret %q: want 32 base32 characters", app.secret)
		}
		img := alice.Page(t, "/account/2fa/totp/qr.png")
		wantStatus(t, img, http.StatusOK)
		if img.Header.Get("Content-Type") != "image/png" || img.Header.Get("Cache-Control") != "no-store" || !bytes.HasPrefix(img.Body, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("QR code: Content-Type %q, Cache-Control %q, body starts %q", img.Header.Get("Content-Type"), img.Header.Get("Cache-Control"), img.Body[:min(8, len(img.Body))])
		}
		// The page again with a wrong code: nothing is on, and the same
		// secret is shown for another try.
		tok := formToken(t, p)
		wrong := alice.PostForm(t, "/account/2fa/totp/confirm", url.Values{"_csrf": {tok}, "code": {app.wrongCode(t)}}, nil)
		wantStatus(t, wrong, http.StatusUnauthorized)
		wantText(t, wrong, "Invalid code", app.secret[:4]+" ")
		if u, _ := srv.Store.UserByUsername(t.Context(), "alice"); u.TOTP {
			t.Fatal("a wrong code turned two-factor sign-in on")
		}
		done := alice.PostForm(t, "/account/2fa/totp/confirm", url.Values{"_csrf": {tok}, "code": {app.code(t)}}, nil)
		wantStatus(t, done, http.StatusOK)
		wantText(t, done, "Two-factor sign-in is on", "shown only this once")
		if done.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("recovery codes page Cache-Control = %q", done.Header.Get("Cache-Control"))
		}
		for _, m := range recoveryField.FindAllStringSubmatch(done.Text(), -1) {
			codes = append(codes, m[1])
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10", len(codes))
		}
	})
	t.Run("ThisSessionGoesOnOthersEnd", func(t *testing.T) {
		if who := signedInAs(t, alice); who != "alice" {
			t.Fatalf("after turning it on, this browser is signed in as %q", who)
		}
		wantText(t, alice.Page(t, "/account"), "On.", "Recovery codes left: <strong>10</strong>", `href="/account/2fa/totp/disable"`, `href="/account/2fa/recovery"`)
		if who := signedInAs(t, elsewhere); who != "" {
			t.Fatalf("the other browser is still signed in as %q", who)
		}
	})
	t.Run("PasswordAloneIsNotEnough", func(t *testing.T) {
		c := passwordStep(t, srv, "alice", "/write")
		if who := signedInAs(t, c); who != "" {
			t.Fatalf("signed in as %q before the second step", who)
		}
		wantRedirect(t, c.Page(t, "/write"), "/login?next=%2Fwrite")
	})
	t.Run("SecondStep", func(t *testing.T) {
		c := passwordStep(t, srv, "alice", "/write")
		p := c.Page(t, "/login/2fa")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `name="code"`, `autocomplete="one-time-code"`, "recovery codes")
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("second step Cache-Control = %q", p.Header.Get("Cache-Control"))
		}
		if strings.Contains(p.Text(), "eyJ") {
			t.Error("the second step's page holds a token")
		}
		wrong := secondStep(t, c, app.wrongCode(t))
		wantStatus(t, wrong, http.StatusUnauthorized)
		wantText(t, wrong, "Invalid code")
		used = app.code(t)
		wantRedirect(t, secondStep(t, c, used), "/write")
		if who := signedInAs(t, c); who != "alice" {
			t.Fatalf("after the second step, signed in as %q", who)
		}
		// The pending sign-in is spent.
		wantRedirect(t, c.Page(t, "/login/2fa"), "/login")
	})
	t.Run("ReplayedCodeRefused", func(t *testing.T) {
		c := passwordStep(t, srv, "alice", "")
		p := secondStep(t, c, used)
		wantStatus(t, p, http.StatusUnauthorized)
		wantText(t, p, "Invalid code")
		if who := signedInAs(t, c); who != "" {
			t.Fatalf("a replayed code signed in as %q", who)
		}
	})
	t.Run("RecoveryCodeOnce", func(t *testing.T) {
		c := passwordStep(t, srv, "alice", "")
		// As typed from a printout: upper case, a space for the dash.
		wantRedirect(t, secondStep(t, c, strings.ToUpper(strings.Replace(codes[0], "-", " ", 1))), "/")
		if who := signedInAs(t, c); who != "alice" {
			t.Fatalf("after a recovery code, signed in as %q", who)
		}
		wantText(t, c.Page(t, "/account"), "Recovery codes left: <strong>9</strong>")
		again := passwordStep(t, srv, "alice", "")
		p := secondStep(t, again, codes[0])
		wantStatus(t, p, http.StatusUnauthorized)
		if who := signedInAs(t, again); who != "" {
			t.Fatalf("a used recovery code signed in as %q", who)
		}
	})
	t.Run("NewRecoveryCodes", func(t *testing.T) {
		confirm := alice.Page(t, "/account/2fa/recovery")
		wantStatus(t, confirm, http.StatusOK)
		p := alice.PostForm(t, "/account/2fa/recovery", url.Values{"_csrf": {formToken(t, confirm)}}, nil)
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "New recovery codes", "Your old recovery codes no longer work")
		fresh := recoveryField.FindAllStringSubmatch(p.Text(), -1)
		if len(fresh) != 10 {
			t.Fatalf("%d new codes shown", len(fresh))
		}
		c := passwordStep(t, srv, "alice", "")
		wantStatus(t, secondStep(t, c, codes[1]), http.StatusUnauthorized)
		wantRedirect(t, secondStep(t, c, fresh[0][1]), "/")
	})
	t.Run("TurnOff", func(t *testing.T) {
		confirm := alice.Page(t, "/account/2fa/totp/disable")
		wantStatus(t, confirm, http.StatusOK)
		wantText(t, confirm, "Turn off two-factor sign-in?")
		wantRedirect(t, alice.PostForm(t, "/account/2fa/totp/disable", url.Values{"_csrf": {formToken(t, confirm)}}, nil), "/account")
		wantText(t, alice.Page(t, "/account"), "Two-factor sign-in is off", "Off.")
		signIn := newClient(t, srv)
		wantRedirect(t, signIn.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}}), "/")
	})
	t.Run("NoSecretInTheLog", func(t *testing.T) {
		logs := srv.Logs.String()
		for _, s := range append([]string{app.secret, used}, codes...) {
			if strings.Contains(logs, s) || strings.Contains(logs, strings.ReplaceAll(s, "-", "")) {
				t.Errorf("the log holds %q", s)
			}
		}
	})
}

// passwordOnly signs username (an account without a second factor) in
// on a new client.
func passwordOnly(t *testing.T, srv *apptest.Server, username string) *apptest.Client {
	t.Helper()
	c := newClient(t, srv)
	wantRedirect(t, c.Submit(t, "/login", "/login", url.Values{"username": {username}, "password": {apptest.Password}}), "/")
	return c
}

func TestSecondStepWithoutPendingSignIn(t *testing.T) {
	apptest.ForEachStore(t, testSecondStepWithoutPendingSignIn)
}

func testSecondStepWithoutPendingSignIn(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	t.Run("Visitor", func(t *testing.T) {
		c := newClient(t, srv)
		wantRedirect(t, c.Page(t, "/login/2fa"), "/login")
		// A form post with a good token but no pending sign-in.
		wantRedirect(t, c.PostForm(t, "/login/2fa", url.Values{"_csrf": {c.CSRFToken(t, "/login")}, "code": {"123456"}}, nil), "/login")
		if who := signedInAs(t, c); who != "" {
			t.Fatalf("signed in as %q", who)
		}
	})
	t.Run("SignedIn", func(t *testing.T) {
		c := newClient(t, srv)
		register(t, c, "bob")
		wantRedirect(t, c.Page(t, "/login/2fa"), "/login")
	})
}

func TestReauthentication(t *testing.T) { apptest.ForEachStore(t, testReauthentication) }

// testReauthentication: a sign-in older than the window gets "Confirm
// it's you" on every page and action that changes the second factor,
// changes nothing, and goes on to the page asked for once confirmed.
func testReauthentication(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	c := newClient(t, srv)
	register(t, c, "carol")
	id := userID(t, srv, "carol")

	t.Run("SetupAsksFirst", func(t *testing.T) {
		ageSignIn(t, srv, c)
		p := c.Page(t, "/account/2fa/totp")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Confirm it’s you", `action="/account/reauth"`, `name="next" value="/account/2fa/totp"`, `name="password"`)
		if strings.Contains(p.Text(), `name="code"`) {
			t.Error("the page asks for a code of an account without a second factor")
		}
		if strings.Contains(p.Text(), `class="secret"`) {
			t.Fatal("the setup page showed a secret without a recent sign-in")
		}
		if tf, err := srv.Store.TwoFactor(t.Context(), id); err != nil || tf.TOTPSecret != "" {
			t.Fatalf("a secret was made without a recent sign-in: %v", err)
		}
		wantStatus(t, c.Page(t, "/account/2fa/totp/qr.png"), http.StatusForbidden)
		wrong := c.PostForm(t, "/account/reauth", url.Values{"_csrf": {formToken(t, p)}, "next": {"/account/2fa/totp"}, "password": {"not the password at all"}}, nil)
		wantStatus(t, wrong, http.StatusUnauthorized)
		wantText(t, wrong, "Invalid password", `name="next" value="/account/2fa/totp"`)
		before := c.Cookie("palisade_session").Value
		ok := c.PostForm(t, "/account/reauth", url.Values{"_csrf": {formToken(t, p)}, "next": {"/account/2fa/totp"}, "password": {apptest.Password}}, nil)
		wantRedirect(t, ok, "/account/2fa/totp")
		if c.Cookie("palisade_session").Value == before {
			t.Error("the session ID did not change on re-authentication")
		}
		p = c.Page(t, "/account/2fa/totp")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `class="secret"`)
	})
	var app *authenticator
	t.Run("ConfirmAsksFirst", func(t *testing.T) {
		p, a := startSetup(t, c)
		app = a
		ageSignIn(t, srv, c)
		refused := c.PostForm(t, "/account/2fa/totp/confirm", url.Values{"_csrf": {formToken(t, p)}, "code": {app.code(t)}}, nil)
		wantStatus(t, refused, http.StatusForbidden)
		wantText(t, refused, "Confirm it’s you", `name="next" value="/account/2fa/totp"`)
		if u, _ := srv.Store.UserByID(t.Context(), id); u.TOTP {
			t.Fatal("turned on without a recent sign-in")
		}
		wantRedirect(t, c.PostForm(t, "/account/reauth", url.Values{"_csrf": {formToken(t, refused)}, "next": {"/account/2fa/totp"}, "password": {apptest.Password}}, nil), "/account/2fa/totp")
		app, _ = enrol(t, c)
	})
	t.Run("TurnOffAsksFirst", func(t *testing.T) {
		ageSignIn(t, srv, c)
		p := c.Page(t, "/account/2fa/totp/disable")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Confirm it’s you", `name="next" value="/account/2fa/totp/disable"`, `name="code"`)
		refused := c.PostForm(t, "/account/2fa/totp/disable", url.Values{"_csrf": {formToken(t, p)}}, nil)
		wantStatus(t, refused, http.StatusForbidden)
		wantText(t, refused, "Confirm it’s you")
		if u, _ := srv.Store.UserByID(t.Context(), id); !u.TOTP {
			t.Fatal("turned off without a recent sign-in")
		}
		// With a TOTP account, a code confirms as well as the password.
		wantRedirect(t, c.PostForm(t, "/account/reauth", url.Values{"_csrf": {formToken(t, p)}, "next": {"/account/2fa/totp/disable"}, "code": {app.code(t)}}, nil), "/account/2fa/totp/disable")
		confirm := c.Page(t, "/account/2fa/totp/disable")
		wantText(t, confirm, "Turn off two-factor sign-in?")
		wantRedirect(t, c.PostForm(t, "/account/2fa/totp/disable", url.Values{"_csrf": {formToken(t, confirm)}}, nil), "/account")
		if u, _ := srv.Store.UserByID(t.Context(), id); u.TOTP {
			t.Fatal("not turned off after confirming")
		}
	})
	t.Run("RecoveryCodesAskFirst", func(t *testing.T) {
		_, codes := enrol(t, c)
		ageSignIn(t, srv, c)
		before := twoFactorState(t, srv, id)
		p := c.Page(t, "/account/2fa/recovery")
		wantText(t, p, "Confirm it’s you", `name="next" value="/account/2fa/recovery"`)
		wantStatus(t, c.PostForm(t, "/account/2fa/recovery", url.Values{"_csrf": {formToken(t, p)}}, nil), http.StatusForbidden)
		if after := twoFactorState(t, srv, id); after != before {
			t.Fatalf("changed without a recent sign-in:\n%s\n%s", before, after)
		}
		// A recovery code confirms too.
		wantRedirect(t, c.PostForm(t, "/account/reauth", url.Values{"_csrf": {formToken(t, p)}, "next": {"/account/2fa/recovery"}, "code": {codes[0]}}, nil), "/account/2fa/recovery")
		wantText(t, c.Page(t, "/account/2fa/recovery"), "Make new recovery codes?")
	})
	t.Run("NextStaysOnTheSite", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`, "javascript:alert(1)"} {
			tok := c.CSRFToken(t, "/account")
			wantRedirect(t, c.PostForm(t, "/account/reauth", url.Values{"_csrf": {tok}, "next": {next}, "password": {apptest.Password}}, nil), "/")
		}
	})
	t.Run("NotSignedIn", func(t *testing.T) {
		v := newClient(t, srv)
		wantRedirect(t, v.Page(t, "/account"), "/login?next=%2Faccount")
		wantRedirect(t, v.Page(t, "/account/2fa/totp"), "/login?next=%2Faccount%2F2fa%2Ftotp")
		wantStatus(t, v.Page(t, "/account/2fa/totp/qr.png"), http.StatusForbidden)
	})
}

func TestTwoFactorFormsCSRF(t *testing.T) { apptest.ForEachStore(t, testTwoFactorFormsCSRF) }

// testTwoFactorFormsCSRF sends every two-factor form without its token
// and from another site, each with what would otherwise be accepted,
// and checks that nothing changed; then the honest request, which works.
func testTwoFactorFormsCSRF(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	dave := newClient(t, srv)
	register(t, dave, "dave")
	daveID := userID(t, srv, "dave")
	_, codes := enrol(t, dave)
	erin := newClient(t, srv)
	register(t, erin, "erin")
	erinID := userID(t, srv, "erin")
	setup, erinApp := startSetup(t, erin)
	ageSignIn(t, srv, erin) // so that a forged re-authentication would show
	pending := passwordStep(t, srv, "dave", "")

	attacks := []struct {
		name    string
		noToken bool
		headers map[string]string
	}{
		{"NoToken", true, nil},
		{"CrossSite", false, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
	}
	forms := []struct {
		name, action string
		c            *apptest.Client
		tokenPage    string
		fields       url.Values
	}{
		{"SecondStep", "/login/2fa", pending, "/login/2fa", url.Values{"code": {codes[0]}}},
		{"Reauth", "/account/reauth", erin, "/account", url.Values{"password": {apptest.Password}, "next": {"/account"}}},
		{"Confirm", "/account/2fa/totp/confirm", dave, "/account", url.Values{"code": {"000000"}}},
		{"TurnOff", "/account/2fa/totp/disable", dave, "/account", nil},
		{"NewRecoveryCodes", "/account/2fa/recovery", dave, "/account", nil},
	}
	beforeDave, beforeErin := twoFactorState(t, srv, daveID), twoFactorState(t, srv, erinID)
	for _, f := range forms {
		for _, a := range attacks {
			t.Run(f.name+"/"+a.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range f.fields {
					form[k] = v
				}
				if !a.noToken {
					form.Set("_csrf", f.c.CSRFToken(t, f.tokenPage))
				}
				p := f.c.PostForm(t, f.action, form, a.headers)
				wantStatus(t, p, http.StatusForbidden)
				wantText(t, p, "Invalid CSRF token")
			})
		}
	}
	// Erin's forged confirmation carries a right code for her pending
	// secret: refused all the same.
	for _, a := range attacks {
		form := url.Values{"code": {erinApp.codeAt(t, time.Now().Unix()/step)}}
		if !a.noToken {
			form.Set("_csrf", formToken(t, setup))
		}
		wantStatus(t, erin.PostForm(t, "/account/2fa/totp/confirm", form, a.headers), http.StatusForbidden)
	}
	t.Run("NothingChanged", func(t *testing.T) {
		if after := twoFactorState(t, srv, daveID); after != beforeDave {
			t.Errorf("dave's second factor changed:\n%s\n%s", beforeDave, after)
		}
		if after := twoFactorState(t, srv, erinID); after != beforeErin {
			t.Errorf("erin's second factor changed:\n%s\n%s", beforeErin, after)
		}
		if who := signedInAs(t, pending); who != "" {
			t.Errorf("a forged second step signed in as %q", who)
		}
		// Erin's sign-in is still too old: the forged re-authentication
		// did not count.
		wantText(t, erin.Page(t, "/account/2fa/totp/disable"), "Confirm it’s you")
		if who := signedInAs(t, dave); who != "dave" {
			t.Errorf("dave's session: signed in as %q", who)
		}
	})
	t.Run("HonestRequestsWork", func(t *testing.T) {
		wantRedirect(t, secondStep(t, pending, codes[0]), "/")
		wantRedirect(t, erin.PostForm(t, "/account/reauth", url.Values{"_csrf": {erin.CSRFToken(t, "/account")}, "password": {apptest.Password}, "next": {"/account"}}, nil), "/account")
		p := erin.PostForm(t, "/account/2fa/totp/confirm", url.Values{"_csrf": {formToken(t, setup)}, "code": {erinApp.code(t)}}, nil)
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Two-factor sign-in is on")
	})
}

func TestEnrolmentPolicy(t *testing.T) { apptest.ForEachStore(t, testEnrolmentPolicy) }

// testEnrolmentPolicy: under PALISADE_REQUIRE_2FA, a signed-in account
// the policy covers that has no second factor can use only its account
// page (and sign out) until it sets one up.
func testEnrolmentPolicy(t *testing.T, st apptest.Store) {
	t.Run("Admins", func(t *testing.T) {
		srv := st.Start(t, twoFactorEnv("admins"))
		admin, _ := signIn(t, srv, "grace", blog.RoleAdmin)
		author, _ := signIn(t, srv, "ada", blog.RoleAuthor)
		for _, path := range []string{"/", "/write", "/admin", "/u/ada", "/login"} {
			wantRedirect(t, admin.Page(t, path), "/account")
		}
		p := admin.Page(t, "/account")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Two-factor sign-in is required for this account: set it up first", `href="/account/2fa/totp"`)
		refused := admin.PostForm(t, "/write", url.Values{"_csrf": {formToken(t, p)}, "title": {"Not yet"}, "content": {"Held until two-factor sign-in is on."}}, nil)
		wantStatus(t, refused, http.StatusForbidden)
		wantText(t, refused, "Two-factor sign-in is required for this account")
		if n := countPosts(t, srv); n != 0 {
			t.Fatalf("%d posts written by an account held by the policy", n)
		}
		// An author is not covered.
		wantStatus(t, author.Page(t, "/write"), http.StatusOK)
		// Setting it up opens the site.
		enrol(t, admin)
		wantStatus(t, admin.Page(t, "/write"), http.StatusOK)
		wantStatus(t, admin.Page(t, "/admin"), http.StatusOK)
	})
	t.Run("All", func(t *testing.T) {
		srv := st.Start(t, twoFactorEnv("all"))
		author, _ := signIn(t, srv, "ada", blog.RoleAuthor)
		wantRedirect(t, author.Page(t, "/write"), "/account")
		wantStatus(t, author.Page(t, "/account"), http.StatusOK)
		// Signing out still works.
		wantRedirect(t, author.PostForm(t, "/logout", url.Values{"_csrf": {author.CSRFToken(t, "/account")}}, nil), "/")
		if who := signedInAs(t, author); who != "" {
			t.Fatalf("still signed in as %q", who)
		}
	})
	t.Run("None", func(t *testing.T) {
		srv := st.Start(t, twoFactorEnv("none"))
		admin, _ := signIn(t, srv, "grace", blog.RoleAdmin)
		wantStatus(t, admin.Page(t, "/admin"), http.StatusOK)
	})
}

func TestSecondStepExpired(t *testing.T) { apptest.ForEachStore(t, testSecondStepExpired) }

// testSecondStepExpired: a pending sign-in that the account service no
// longer accepts (here the account's second factor changed after the
// password step) goes back to the sign-in page, saying why, and its code
// signs nobody in.
func testSecondStepExpired(t *testing.T, st apptest.Store) {
	srv := st.Start(t, twoFactorEnv("none"))
	c := newClient(t, srv)
	register(t, c, "frank")
	app, codes := enrol(t, c)
	pending := passwordStep(t, srv, "frank", "/write")
	// New recovery codes, made elsewhere: a factor change.
	if err := srv.Store.ReplaceRecoveryCodes(t.Context(), userID(t, srv, "frank"), []string{}); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, secondStep(t, pending, codes[0]), "/login")
	p := pending.Page(t, "/login")
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "This sign-in has expired or was already used: sign in again.")
	if who := signedInAs(t, pending); who != "" {
		t.Fatalf("signed in as %q", who)
	}
	// The pending sign-in is gone, and the message shown once.
	wantRedirect(t, pending.Page(t, "/login/2fa"), "/login")
	if strings.Contains(pending.Page(t, "/login").Text(), "has expired") {
		t.Error("the message is shown again")
	}
	t.Run("NoImageWithoutSetup", func(t *testing.T) {
		// The change signed c out too: sign in again.
		again := passwordStep(t, srv, "frank", "")
		wantRedirect(t, secondStep(t, again, app.code(t)), "/")
		wantStatus(t, again.Page(t, "/account/2fa/totp/qr.png"), http.StatusNotFound)
	})
}

func TestSecondStepThrottled(t *testing.T) { apptest.ForEachStore(t, testSecondStepThrottled) }

// testSecondStepThrottled: wrong codes count against the sign-in limit
// (5 failures by default) like wrong passwords: then even the right code
// is refused, with 429 and Retry-After, and signs nobody in.
func testSecondStepThrottled(t *testing.T, st apptest.Store) {
	srv := st.Start(t, map[string]string{"PALISADE_REQUIRE_2FA": "none"})
	c := newClient(t, srv)
	register(t, c, "gina")
	app, _ := enrol(t, c)
	pending := passwordStep(t, srv, "gina", "")
	for range 5 {
		wantStatus(t, secondStep(t, pending, app.wrongCode(t)), http.StatusUnauthorized)
	}
	p := secondStep(t, pending, app.code(t))
	wantStatus(t, p, http.StatusTooManyRequests)
	wantText(t, p, "Too many sign-in attempts")
	if p.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if who := signedInAs(t, pending); who != "" {
		t.Fatalf("signed in as %q", who)
	}
}
