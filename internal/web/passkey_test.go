package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/web"
)

// passkeyServer starts a site whose base URL is http://localhost:PORT, a
// domain name, so passkeys are on, and returns it with a client on that
// origin (the one browsers and the software authenticator use).
func passkeyServer(t *testing.T, st apptest.Store) (*apptest.Server, func(t *testing.T) *apptest.Client) {
	t.Helper()
	env := twoFactorEnv("none")
	env["PALISADE_BASE_URL"] = "http://localhost:" + apptest.Port
	srv := st.Start(t, env)
	origin := strings.TrimSuffix(srv.Config.BaseURL.String(), "/")
	return srv, func(t *testing.T) *apptest.Client { return apptest.NewClient(t, origin) }
}

// passkeyCall sends body to one of passkey.js's endpoints as the script
// does: JSON, from the site's own page, with the CSRF token of tokenPage.
// headers override those (a cross-site request; an empty value removes
// one).
func passkeyCall(t *testing.T, c *apptest.Client, tokenPage, path string, body any, headers map[string]string) *page {
	t.Helper()
	h := map[string]string{
		"Accept": "application/json", "Origin": c.Origin(), "Sec-Fetch-Site": "same-origin",
		"X-CSRF-Token": c.CSRFToken(t, tokenPage),
	}
	for k, v := range headers {
		h[k] = v
	}
	if body == nil {
		body = map[string]string{}
	}
	return c.Do(t, apptest.Request{Method: http.MethodPost, Path: path, Body: body, Header: h})
}

// passkeyAnswer is what the endpoints answer the script.
type passkeyAnswer struct {
	PublicKey json.RawMessage
	Redirect  string
	Error     string
}

func decodeAnswer(t *testing.T, p *page) passkeyAnswer {
	t.Helper()
	var a passkeyAnswer
	p.JSON(t, &a)
	return a
}

// ceremony runs one passkey action (base is its path without /begin or
// /finish) with the software authenticator, as passkey.js does, and
// returns the finishing answer.
func ceremony(t *testing.T, c *apptest.Client, a *apptest.Authenticator, tokenPage, base string, fields map[string]any) *page {
	t.Helper()
	if fields == nil {
		fields = map[string]any{}
	}
	begin := passkeyCall(t, c, tokenPage, base+"/begin", fields, nil)
	wantStatus(t, begin, http.StatusOK)
	opts := decodeAnswer(t, begin).PublicKey
	if strings.Contains(begin.Text(), "ceremonyToken") {
		t.Fatalf("the ceremony token reached the page: %s", begin.Text())
	}
	var cred []byte
	var err error
	if base == "/account/passkeys" {
		cred, err = a.Create(opts)
	} else {
		cred, err = a.Get(opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	fields["credential"] = json.RawMessage(cred)
	return passkeyCall(t, c, tokenPage, base+"/finish", fields, nil)
}

func wantAnswer(t *testing.T, p *page, status int, redirect string) {
	t.Helper()
	wantStatus(t, p, status)
	if got := decodeAnswer(t, p).Redirect; got != redirect {
		t.Fatalf("redirect = %q, want %q", got, redirect)
	}
}

var removeLink = regexp.MustCompile(`href="/account/passkeys/([A-Za-z0-9_-]+)/remove"`)

// passkeyIDs are the passkeys the account page lists.
func passkeyIDs(t *testing.T, c *apptest.Client) []string {
	t.Helper()
	var ids []string
	for _, m := range removeLink.FindAllStringSubmatch(c.Page(t, "/account").Text(), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func wantCSP(t *testing.T, p *page, scripted bool) {
	t.Helper()
	want, script := web.PageCSP, false
	if scripted {
		want, script = web.PasskeyPageCSP, true
	}
	if got := p.Header.Get("Content-Security-Policy"); got != want {
		t.Errorf("CSP = %q, want %q", got, want)
	}
	if got := strings.Contains(p.Text(), "<script"); got != script {
		t.Errorf("page has a script: %v, want %v", got, script)
	}
	if got := strings.Contains(p.Text(), "data-passkey="); got != script {
		t.Errorf("page offers a passkey: %v, want %v", got, script)
	}
}

func TestPasskeyJourney(t *testing.T) { apptest.ForEachStore(t, testPasskeyJourney) }

// testPasskeyJourney walks one account through passkeys as the script
// does it, with the software authenticator: add one on /account, sign in
// with it alone, use it as the second step after the password, rename it,
// confirm it's you with it, and remove it, after which it signs no one in.
func testPasskeyJourney(t *testing.T, st apptest.Store) {
	srv, client := passkeyServer(t, st)
	alice := client(t)
	register(t, alice, "alice")
	origin := alice.Origin()
	key := apptest.NewAuthenticator(origin)
	var id string

	t.Run("Add", func(t *testing.T) {
		p := alice.Page(t, "/account")
		wantStatus(t, p, http.StatusOK)
		wantCSP(t, p, true)
		if !strings.Contains(p.Text(), `data-passkey="register"`) || !strings.Contains(p.Text(), "You have no passkeys yet") {
			t.Fatalf("no passkey form on the account page:\n%s", p.Text())
		}
		done := ceremony(t, alice, key, "/account", "/account/passkeys", map[string]any{"name": "  Laptop  "})
		wantAnswer(t, done, http.StatusOK, "/account")
		p = alice.Page(t, "/account")
		for _, want := range []string{"added: it signs you in", `value="Laptop"`, "Never", "No, this device only", "Signing in with your password also takes one of your passkeys"} {
			if !strings.Contains(p.Text(), want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		ids := passkeyIDs(t, alice)
		if len(ids) != 1 {
			t.Fatalf("%d passkeys listed", len(ids))
		}
		id = ids[0]
	})
	t.Run("BadName", func(t *testing.T) {
		p := passkeyCall(t, alice, "/account", "/account/passkeys/begin", map[string]string{"name": "  "}, nil)
		wantStatus(t, p, http.StatusBadRequest)
	})
	t.Run("SignInAlone", func(t *testing.T) {
		c := client(t)
		p := c.Page(t, "/login?next=%2Fwrite")
		wantCSP(t, p, true)
		done := ceremony(t, c, key, "/login", "/login/passkey", map[string]any{"next": "/write"})
		wantAnswer(t, done, http.StatusOK, "/write")
		if who := signedInAs(t, c); who != "alice" {
			t.Fatalf("signed in as %q", who)
		}
		// Somewhere else than the site: "/" instead.
		c2 := client(t)
		done = ceremony(t, c2, key, "/login", "/login/passkey", map[string]any{"next": "https://evil.example/"})
		wantAnswer(t, done, http.StatusOK, "/")
	})
	t.Run("SecondStep", func(t *testing.T) {
		c := client(t)
		wantRedirect(t, c.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}, "next": {"/account"}}), "/login/2fa")
		p := c.Page(t, "/login/2fa")
		wantCSP(t, p, true)
		if !strings.Contains(p.Text(), "Use a passkey") || strings.Contains(p.Text(), `action="/login/2fa"`) {
			t.Fatalf("the second step of an account with only a passkey:\n%s", p.Text())
		}
		done := ceremony(t, c, key, "/login/2fa", "/login/2fa/passkey", nil)
		wantAnswer(t, done, http.StatusOK, "/account")
		if who := signedInAs(t, c); who != "alice" {
			t.Fatalf("signed in as %q", who)
		}
		// The sign-in it finished is over: its passkey step can't begin again.
		again := passkeyCall(t, c, "/", "/login/2fa/passkey/begin", nil, nil)
		wantAnswer(t, again, http.StatusUnauthorized, "/login")
	})
	t.Run("Rename", func(t *testing.T) {
		tok := alice.CSRFToken(t, "/account")
		p := alice.PostForm(t, "/account/passkeys/"+id+"/rename", url.Values{"_csrf": {tok}, "name": {"Work laptop"}}, nil)
		wantRedirect(t, p, "/account#passkeys")
		if !strings.Contains(alice.Page(t, "/account").Text(), `value="Work laptop"`) {
			t.Error("new name not shown")
		}
		p = alice.PostForm(t, "/account/passkeys/"+id+"/rename", url.Values{"_csrf": {tok}, "name": {strings.Repeat("x", 65)}}, nil)
		wantStatus(t, p, http.StatusBadRequest)
		p = alice.PostForm(t, "/account/passkeys/nosuchpasskey/rename", url.Values{"_csrf": {tok}, "name": {"Mine now"}}, nil)
		wantStatus(t, p, http.StatusNotFound)
	})
	t.Run("RemoveNeedsRecentSignIn", func(t *testing.T) {
		ageSignIn(t, srv, alice)
		p := alice.Page(t, "/account")
		wantCSP(t, p, false) // adding one needs a recent sign-in: a link to confirm first
		if !strings.Contains(p.Text(), `href="/account/passkeys/add"`) {
			t.Error("no link to confirm before adding a passkey")
		}
		// Adding one is refused by the script's endpoint too, nothing begun.
		add := passkeyCall(t, alice, "/account", "/account/passkeys/begin", map[string]string{"name": "Phone"}, nil)
		wantAnswer(t, add, http.StatusForbidden, "/account/passkeys/add")
		tok := alice.CSRFToken(t, "/account")
		p = alice.PostForm(t, "/account/passkeys/"+id+"/remove", url.Values{"_csrf": {tok}}, nil)
		wantStatus(t, p, http.StatusForbidden)
		if !strings.Contains(p.Text(), "Confirm it’s you") {
			t.Fatalf("no re-authentication page:\n%s", p.Text())
		}
		wantCSP(t, p, true) // the re-authentication page offers the passkey
		if len(passkeyIDs(t, alice)) != 1 {
			t.Fatal("removed without a recent sign-in")
		}
		// Confirm with the passkey, as the re-authentication page's
		// button does, and go on to the removal.
		next := "/account/passkeys/" + id + "/remove"
		done := ceremony(t, alice, key, "/account", "/account/reauth/passkey", map[string]any{"next": next})
		wantAnswer(t, done, http.StatusOK, next)
		p = alice.Page(t, next)
		wantStatus(t, p, http.StatusOK)
		wantCSP(t, p, false)
		if !strings.Contains(p.Text(), "Remove the passkey “Work laptop”?") {
			t.Fatalf("no confirmation:\n%s", p.Text())
		}
		p = alice.PostForm(t, next, url.Values{"_csrf": {formToken(t, p)}}, nil)
		wantRedirect(t, p, "/account#passkeys")
		if n := len(passkeyIDs(t, alice)); n != 0 {
			t.Fatalf("%d passkeys left", n)
		}
	})
	t.Run("RemovedSignsNoOneIn", func(t *testing.T) {
		c := client(t)
		done := ceremony(t, c, key, "/login", "/login/passkey", nil)
		wantStatus(t, done, http.StatusUnauthorized)
		if a := decodeAnswer(t, done); a.Error != "The passkey could not be verified." || a.Redirect != "" {
			t.Errorf("answer = %+v", a)
		}
		if who := signedInAs(t, c); who != "" {
			t.Fatalf("signed in as %q", who)
		}
	})
}

func TestPasskeyEndpointsCSRF(t *testing.T) { apptest.ForEachStore(t, testPasskeyEndpointsCSRF) }

// testPasskeyEndpointsCSRF sends every endpoint of passkey.js without its
// token and from another site, and checks each is refused before any
// work: no ceremony begun (the honest finish that follows finds none),
// no passkey added, nobody signed in. Then the honest requests work.
func testPasskeyEndpointsCSRF(t *testing.T, st apptest.Store) {
	_, client := passkeyServer(t, st)
	bob := client(t)
	register(t, bob, "bob")
	key := apptest.NewAuthenticator(bob.Origin())
	attacks := []struct {
		name    string
		headers map[string]string
	}{
		{"NoToken", map[string]string{"X-CSRF-Token": ""}},
		{"WrongToken", map[string]string{"X-CSRF-Token": "AAAA"}},
		{"CrossSite", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"OtherOrigin", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
	}
	paths := []struct{ path, tokenPage string }{
		{"/account/passkeys/begin", "/account"},
		{"/account/passkeys/finish", "/account"},
		{"/account/reauth/passkey/begin", "/account"},
		{"/account/reauth/passkey/finish", "/account"},
		{"/login/passkey/begin", "/login"},
		{"/login/passkey/finish", "/login"},
		{"/login/2fa/passkey/begin", "/login"},
		{"/login/2fa/passkey/finish", "/login"},
	}
	anon := client(t)
	for _, a := range attacks {
		for _, p := range paths {
			t.Run(a.name+strings.ReplaceAll(p.path, "/", "_"), func(t *testing.T) {
				c := bob
				if strings.HasPrefix(p.path, "/login") {
					c = anon
				}
				res := passkeyCall(t, c, p.tokenPage, p.path, map[string]string{"name": "Evil"}, a.headers)
				wantStatus(t, res, http.StatusForbidden)
				if got := decodeAnswer(t, res).Error; got != "Invalid CSRF token" {
					t.Errorf("error = %q", got)
				}
			})
		}
	}
	// Nothing was begun: finishing finds no ceremony.
	fin := passkeyCall(t, bob, "/account", "/account/passkeys/finish", map[string]string{"name": "Evil"}, nil)
	wantStatus(t, fin, http.StatusUnauthorized)
	fin = passkeyCall(t, anon, "/login", "/login/passkey/finish", nil, nil)
	wantStatus(t, fin, http.StatusUnauthorized)
	if len(passkeyIDs(t, bob)) != 0 {
		t.Fatal("a passkey was added")
	}
	// The honest requests.
	wantAnswer(t, ceremony(t, bob, key, "/account", "/account/passkeys", map[string]any{"name": "Phone"}), http.StatusOK, "/account")
	wantAnswer(t, ceremony(t, anon, key, "/login", "/login/passkey", nil), http.StatusOK, "/")
	if who := signedInAs(t, anon); who != "bob" {
		t.Fatalf("signed in as %q", who)
	}

	// The rename and remove forms, forged.
	id := passkeyIDs(t, bob)[0]
	tok := bob.CSRFToken(t, "/account")
	for _, a := range attacks[2:] {
		for _, action := range []string{"rename", "remove"} {
			p := bob.PostForm(t, "/account/passkeys/"+id+"/"+action, url.Values{"_csrf": {tok}, "name": {"Evil"}}, a.headers)
			wantStatus(t, p, http.StatusForbidden)
		}
	}
	for _, action := range []string{"rename", "remove"} {
		p := bob.PostForm(t, "/account/passkeys/"+id+"/"+action, url.Values{"name": {"Evil"}}, nil)
		wantStatus(t, p, http.StatusForbidden)
	}
	page := bob.Page(t, "/account").Text()
	if !strings.Contains(page, `value="Phone"`) || len(passkeyIDs(t, bob)) != 1 {
		t.Fatal("a forged form changed the passkey")
	}
}

// TestPasskeyScriptOnlyWhereOffered checks each page's CSP: the pages
// that offer a passkey action allow passkey.js (and load it), every other
// page allows no script at all.
func TestPasskeyScriptOnlyWhereOffered(t *testing.T) {
	srv, client := passkeyServer(t, apptest.Stores()[0])
	carol := client(t)
	register(t, carol, "carol")
	id := write(t, carol, "Hello", "Some *text*.")
	_ = srv
	for _, path := range []string{"/", "/post/" + id, "/u/carol", "/write", "/post/" + id + "/edit", "/account/2fa/totp", "/no-such-page"} {
		t.Run(path, func(t *testing.T) { wantCSP(t, carol.Page(t, path), false) })
	}
	t.Run("/account", func(t *testing.T) { wantCSP(t, carol.Page(t, "/account"), true) })
	anon := client(t)
	t.Run("/register", func(t *testing.T) { wantCSP(t, anon.Page(t, "/register"), false) })
	t.Run("/login", func(t *testing.T) { wantCSP(t, anon.Page(t, "/login"), true) })
	// The second step of an account with an authenticator app and no
	// passkey offers only the code.
	enrol(t, carol)
	c := client(t)
	wantRedirect(t, c.Submit(t, "/login", "/login", url.Values{"username": {"carol"}, "password": {apptest.Password}}), "/login/2fa")
	t.Run("/login/2fa", func(t *testing.T) { wantCSP(t, c.Page(t, "/login/2fa"), false) })
	// The script itself, from the site, cached as the CSS is.
	js := anon.Page(t, "/login")
	m := regexp.MustCompile(`<script src="(/static/passkey\.[0-9a-f]+\.js)" defer></script>`).FindStringSubmatch(js.Text())
	if m == nil {
		t.Fatal("no passkey.js on the sign-in page")
	}
	s := anon.Get(t, m[1], "")
	wantStatus(t, s, http.StatusOK)
	if ct := s.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q", ct)
	}
	if strings.Contains(s.Text(), "innerHTML") || strings.Contains(s.Text(), "eval(") {
		t.Error("passkey.js uses a DOM sink")
	}
}

// TestNoPasskeysOnIPAddress: with the default base URL, an IP address
// where browsers refuse WebAuthn, no page offers a passkey or loads the
// script, and the endpoints say why.
func TestNoPasskeysOnIPAddress(t *testing.T) {
	srv := apptest.Start(t, twoFactorEnv("none"))
	dan := newClient(t, srv)
	register(t, dan, "dan")
	for _, path := range []string{"/account", "/"} {
		p := dan.Page(t, path)
		wantCSP(t, p, false)
		if strings.Contains(p.Text(), "Passkeys") {
			t.Errorf("%s mentions passkeys", path)
		}
	}
	anon := newClient(t, srv)
	wantCSP(t, anon.Page(t, "/login"), false)
	res := passkeyCall(t, anon, "/login", "/login/passkey/begin", nil, nil)
	wantStatus(t, res, http.StatusConflict)
	res = passkeyCall(t, dan, "/account", "/account/passkeys/begin", map[string]string{"name": "Phone"}, nil)
	wantStatus(t, res, http.StatusConflict)
	if !strings.Contains(decodeAnswer(t, res).Error, "domain name") {
		t.Errorf("answer %s", res.Text())
	}
}

func TestPasskeySatisfiesPolicy(t *testing.T) { apptest.ForEachStore(t, testPasskeySatisfiesPolicy) }

// testPasskeySatisfiesPolicy: an account the policy holds on /account
// until it has a second factor may add a passkey there, and then the
// rest of the site opens; its removal page warns that the account would
// be held again.
func testPasskeySatisfiesPolicy(t *testing.T, st apptest.Store) {
	t.Helper()
	env := twoFactorEnv("all")
	env["PALISADE_BASE_URL"] = "http://localhost:" + apptest.Port
	srv := st.Start(t, env)
	erin := apptest.NewClient(t, strings.TrimSuffix(srv.Config.BaseURL.String(), "/"))
	register(t, erin, "erin")
	wantRedirect(t, erin.Page(t, "/write"), "/account")
	p := erin.Page(t, "/account")
	if !strings.Contains(p.Text(), "an authenticator app or a passkey") {
		t.Errorf("the policy's note does not mention passkeys:\n%s", p.Text())
	}
	key := apptest.NewAuthenticator(erin.Origin())
	wantAnswer(t, ceremony(t, erin, key, "/account", "/account/passkeys", map[string]any{"name": "Phone"}), http.StatusOK, "/account")
	wantStatus(t, erin.Page(t, "/write"), http.StatusOK)
	ids := passkeyIDs(t, erin)
	if len(ids) != 1 {
		t.Fatalf("%d passkeys", len(ids))
	}
	p = erin.Page(t, "/account/passkeys/"+ids[0]+"/remove")
	if !strings.Contains(p.Text(), "this is your last second factor") {
		t.Errorf("no warning before removing the last second factor:\n%s", p.Text())
	}
}

// TestPasskeyBadInput sends the endpoints what no browser would: a body
// that is not JSON, one too large, and a credential that is garbage or
// a different kind of JSON. Each is a 4xx in words, never a 5xx, and a
// refused credential uses its ceremony up.
func TestPasskeyBadInput(t *testing.T) {
	_, client := passkeyServer(t, apptest.Stores()[0])
	c := client(t)
	send := func(t *testing.T, path string, body any) *page {
		t.Helper()
		return passkeyCall(t, c, "/login", path, body, nil)
	}
	wantStatus(t, send(t, "/login/passkey/finish", "{not json"), http.StatusBadRequest)
	huge := map[string]any{"credential": json.RawMessage(`"` + strings.Repeat("A", 40<<10) + `"`)}
	wantStatus(t, send(t, "/login/passkey/finish", huge), http.StatusRequestEntityTooLarge)
	for _, cred := range []string{`"garbage"`, `{"id": 1}`, `{}`, `null`, `[1, 2]`} {
		wantStatus(t, send(t, "/login/passkey/begin", nil), http.StatusOK)
		p := send(t, "/login/passkey/finish", map[string]any{"credential": json.RawMessage(cred)})
		wantStatus(t, p, http.StatusUnauthorized)
		if got := decodeAnswer(t, p).Error; got != "The passkey could not be verified." {
			t.Errorf("credential %s: error %q", cred, got)
		}
		// Used up: the same ceremony can't be tried again.
		p = send(t, "/login/passkey/finish", map[string]any{"credential": json.RawMessage(cred)})
		if got := decodeAnswer(t, p).Error; !strings.Contains(got, "expired or was already used") {
			t.Errorf("second try with %s: %q", cred, got)
		}
	}
}
