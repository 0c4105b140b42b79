package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// passkeyEnv serves the blog at a domain name: browsers (and the server)
// allow passkeys only there, never at an IP address.
var passkeyEnv = map[string]string{"PALISADE_BASE_URL": "http://localhost:3000"}

// passkeyOrigin is the page origin the software authenticator reports.
const passkeyOrigin = "http://localhost:3000"

// newPasskeyServer starts a server at passkeyOrigin, with env on top.
func newPasskeyServer(t testing.TB, st apptest.Store, env map[string]string) *testServer {
	t.Helper()
	all := map[string]string{}
	for k, v := range passkeyEnv {
		all[k] = v
	}
	for k, v := range env {
		all[k] = v
	}
	if st.Name == "" {
		return newServer(t, all)
	}
	return newServerOn(t, st, all)
}

// ceremony is a begin route's answer.
type ceremony struct {
	CeremonyToken string
	PublicKey     json.RawMessage
}

func (c ceremony) options() []byte {
	b, _ := json.Marshal(map[string]json.RawMessage{"publicKey": c.PublicKey})
	return b
}

// begin posts to a begin route and returns the ceremony.
func (ts *testServer) begin(t testing.TB, path, token string, body any) ceremony {
	t.Helper()
	var c ceremony
	ts.Post(t, path, token, body).Want(t, http.StatusOK).JSON(t, &c)
	if len(c.CeremonyToken) != 43 || len(c.PublicKey) == 0 {
		t.Fatalf("begin answered %+v", c)
	}
	return c
}

// addPasskey registers a passkey of a for the holder of the recent token
// and returns the token that replaces it.
func (ts *testServer) addPasskey(t testing.TB, token string, a *apptest.Authenticator, name string) (id, newToken string) {
	t.Helper()
	c := ts.begin(t, "/users/me/passkeys/begin", token, nil)
	cred, err := a.Create(c.options())
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Passkey struct{ ID, Name string }
		Token   string
	}
	ts.Post(t, "/users/me/passkeys/finish", token, map[string]any{"ceremonyToken": c.CeremonyToken, "name": name, "credential": json.RawMessage(cred)}).
		Want(t, http.StatusCreated).JSON(t, &out)
	if out.Passkey.ID == "" || out.Passkey.Name != name || out.Token == "" {
		t.Fatalf("finish answered %+v", out)
	}
	return out.Passkey.ID, out.Token
}

// passkeySignIn signs in with a's passkey alone (mfaToken "") or as the
// second step of the sign-in mfaToken names.
func (ts *testServer) passkeySignIn(t testing.TB, a *apptest.Authenticator, mfaToken string) *response {
	t.Helper()
	begin, finish := map[string]any{}, map[string]any{}
	if mfaToken != "" {
		begin["mfaToken"], finish["mfaToken"] = mfaToken, mfaToken
	}
	c := ts.begin(t, "/auth/passkey/begin", "", begin)
	cred, err := a.Get(c.options())
	if err != nil {
		t.Fatal(err)
	}
	finish["ceremonyToken"], finish["credential"] = c.CeremonyToken, json.RawMessage(cred)
	return ts.Post(t, "/auth/passkey/finish", "", finish)
}

func TestPasskeys(t *testing.T) { apptest.ForEachStore(t, testPasskeys) }

func testPasskeys(t *testing.T, st apptest.Store) {
	ts := newPasskeyServer(t, st, nil)
	a := apptest.NewAuthenticator(passkeyOrigin)
	token := ts.SignUp(t, "alice")
	id, token := ts.addPasskey(t, token, a, "Phone")

	var me struct{ TwoFactor struct{ Passkeys int } }
	ts.Get(t, "/users/me", token).Want(t, http.StatusOK).JSON(t, &me)
	if me.TwoFactor.Passkeys != 1 {
		t.Errorf("twoFactor.passkeys = %d", me.TwoFactor.Passkeys)
	}

	t.Run("List", func(t *testing.T) {
		var l struct {
			Passkeys []map[string]any
		}
		ts.Get(t, "/users/me/passkeys", token).Want(t, http.StatusOK).JSON(t, &l)
		if len(l.Passkeys) != 1 || l.Passkeys[0]["id"] != id || l.Passkeys[0]["lastUsedAt"] != nil {
			t.Fatalf("list = %+v", l)
		}
		if _, ok := l.Passkeys[0]["publicKey"]; ok {
			t.Error("the list shows the public key")
		}
	})
	t.Run("Rename", func(t *testing.T) {
		var out struct{ Passkey struct{ Name string } }
		ts.Do(t, request{Method: http.MethodPatch, Path: "/users/me/passkeys/" + id, Token: token, Body: map[string]string{"name": " Laptop "}}).
			Want(t, http.StatusOK).JSON(t, &out)
		if out.Passkey.Name != "Laptop" {
			t.Errorf("renamed to %q", out.Passkey.Name)
		}
		wantStatus(t, ts.Do(t, request{Method: http.MethodPatch, Path: "/users/me/passkeys/" + id, Token: token, Body: map[string]string{"name": strings.Repeat("x", 65)}}), http.StatusBadRequest)
		bob := ts.SignUp(t, "bob")
		wantStatus(t, ts.Do(t, request{Method: http.MethodPatch, Path: "/users/me/passkeys/" + id, Token: bob, Body: map[string]string{"name": "Mine"}}), http.StatusNotFound)
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/users/me/passkeys/" + id, Token: bob}), http.StatusNotFound)
	})
	t.Run("SignInAlone", func(t *testing.T) {
		var b tokenBody
		ts.passkeySignIn(t, a, "").Want(t, http.StatusOK).JSON(t, &b)
		ts.Get(t, "/users/me", b.Token).Want(t, http.StatusOK)
	})
	t.Run("PasswordThenPasskey", func(t *testing.T) {
		r := ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": testPassword}).Want(t, http.StatusUnauthorized)
		var step struct {
			MFAToken string
			Methods  []string
		}
		r.JSON(t, &step)
		if strings.Join(step.Methods, ",") != "passkey" {
			t.Fatalf("methods = %v, want [passkey]", step.Methods)
		}
		var b tokenBody
		ts.passkeySignIn(t, a, step.MFAToken).Want(t, http.StatusOK).JSON(t, &b)
		ts.Get(t, "/users/me", b.Token).Want(t, http.StatusOK)
		// The mfaToken is used up.
		wantStatus(t, ts.Post(t, "/auth/passkey/begin", "", map[string]string{"mfaToken": step.MFAToken}), http.StatusUnauthorized)
	})
	t.Run("Reauth", func(t *testing.T) {
		c := ts.begin(t, "/auth/reauth/passkey/begin", token, nil)
		cred, _ := a.Get(c.options())
		var b tokenBody
		ts.Post(t, "/auth/reauth", token, map[string]any{"ceremonyToken": c.CeremonyToken, "credential": json.RawMessage(cred)}).Want(t, http.StatusOK).JSON(t, &b)
		// Both a password and a passkey: refused.
		wantStatus(t, ts.Post(t, "/auth/reauth", token, map[string]any{"password": testPassword, "ceremonyToken": c.CeremonyToken, "credential": json.RawMessage(cred)}), http.StatusBadRequest)
		token = b.Token
	})
	t.Run("RemoveThenRefused", func(t *testing.T) {
		stale := ts.staleToken(t, "alice")
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/users/me/passkeys/" + id, Token: stale}), http.StatusForbidden)
		var b tokenBody
		ts.Do(t, request{Method: http.MethodDelete, Path: "/users/me/passkeys/" + id, Token: token}).Want(t, http.StatusOK).JSON(t, &b)
		wantStatus(t, ts.Get(t, "/users/me", token), http.StatusUnauthorized) // the version moved on
		ts.passkeySignIn(t, a, "").Want(t, http.StatusUnauthorized)
		token = b.Token
	})
}

func TestPasskeyRefusals(t *testing.T) {
	ts := newPasskeyServer(t, apptest.Store{}, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "100/15m"})
	a := apptest.NewAuthenticator(passkeyOrigin)
	token := ts.SignUp(t, "alice")
	_, token = ts.addPasskey(t, token, a, "Phone")
	bob := ts.SignUp(t, "bob")
	_, _ = ts.addPasskey(t, bob, apptest.NewAuthenticator(passkeyOrigin), "Key")

	refused := func(t *testing.T, a *apptest.Authenticator) {
		t.Helper()
		r := ts.passkeySignIn(t, a, "").Want(t, http.StatusUnauthorized)
		if strings.Contains(r.Text(), "token") {
			t.Fatalf("refusal gave a token: %s", r.Body)
		}
	}
	with := func(change func(*apptest.Authenticator)) *apptest.Authenticator {
		c := a.Clone()
		change(c)
		return c
	}
	t.Run("WrongOrigin", func(t *testing.T) {
		refused(t, with(func(c *apptest.Authenticator) { c.Origin = "http://127.0.0.1:3000" }))
	})
	t.Run("WrongRPID", func(t *testing.T) {
		refused(t, with(func(c *apptest.Authenticator) { c.RPID = "evil.example" }))
	})
	t.Run("NoUserVerification", func(t *testing.T) {
		refused(t, with(func(c *apptest.Authenticator) { c.NoUserVerification = true }))
	})
	t.Run("AnotherAccountsUserHandle", func(t *testing.T) {
		u, err := ts.Store.UserByUsername(t.Context(), "bob")
		if err != nil {
			t.Fatal(err)
		}
		refused(t, with(func(c *apptest.Authenticator) { c.UserHandle = []byte(u.ID) }))
	})
	t.Run("ClonedCounter", func(t *testing.T) {
		clone := a.Clone()
		ts.passkeySignIn(t, a, "").Want(t, http.StatusOK)
		refused(t, clone)
	})
	t.Run("CeremonyReused", func(t *testing.T) {
		c := ts.begin(t, "/auth/passkey/begin", "", map[string]any{})
		cred, _ := a.Get(c.options())
		body := map[string]any{"ceremonyToken": c.CeremonyToken, "credential": json.RawMessage(cred)}
		ts.Post(t, "/auth/passkey/finish", "", body).Want(t, http.StatusOK)
		wantStatus(t, ts.Post(t, "/auth/passkey/finish", "", body), http.StatusUnauthorized)
	})
	t.Run("CeremonyOfAnotherPurpose", func(t *testing.T) {
		c := ts.begin(t, "/auth/reauth/passkey/begin", token, nil)
		cred, _ := a.Get(c.options())
		wantStatus(t, ts.Post(t, "/auth/passkey/finish", "", map[string]any{"ceremonyToken": c.CeremonyToken, "credential": json.RawMessage(cred)}), http.StatusUnauthorized)
	})
	t.Run("MalformedBodies", func(t *testing.T) {
		c := ts.begin(t, "/auth/passkey/begin", "", map[string]any{})
		for _, body := range []any{
			map[string]any{"ceremonyToken": c.CeremonyToken},
			map[string]any{"ceremonyToken": "short", "credential": map[string]any{}},
			map[string]any{"ceremonyToken": c.CeremonyToken, "credential": "a string"},
			map[string]any{"ceremonyToken": c.CeremonyToken, "credential": map[string]string{"x": strings.Repeat("a", 17<<10)}},
			map[string]any{"ceremonyToken": c.CeremonyToken, "credential": map[string]any{}, "extra": 1},
		} {
			wantStatus(t, ts.Post(t, "/auth/passkey/finish", "", body), http.StatusBadRequest)
		}
	})
	t.Run("DisabledAccount", func(t *testing.T) {
		u, err := ts.Store.UserByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		a.SetCounter(1000)
		ts.DisableOnly(t, u.ID)
		refused(t, a)
	})
}

// TestPasskeySignInDoesNotRevealAccounts: a passkey nobody registered is
// refused exactly as one that fails verification, and the password step
// of an account with a passkey answers a wrong password as for anyone.
func TestPasskeySignInDoesNotRevealAccounts(t *testing.T) {
	ts := newPasskeyServer(t, apptest.Store{}, nil)
	a := apptest.NewAuthenticator(passkeyOrigin)
	ts.addPasskey(t, ts.SignUp(t, "alice"), a, "Phone")

	stranger := apptest.NewAuthenticator(passkeyOrigin)
	c := ts.begin(t, "/users/me/passkeys/begin", ts.SignUp(t, "bob"), nil)
	if _, err := stranger.Create(c.options()); err != nil { // made, never registered
		t.Fatal(err)
	}
	unknown := ts.passkeySignIn(t, stranger, "")
	wrongOrigin := a.Clone()
	wrongOrigin.Origin = "http://evil.example"
	bad := ts.passkeySignIn(t, wrongOrigin, "")
	wantStatus(t, unknown, http.StatusUnauthorized)
	bad.WantSameAnswer(t, unknown)

	nobody := ts.Post(t, "/auth/login", "", map[string]string{"username": "nobody", "password": testPassword})
	wrong := ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": "wrong " + testPassword})
	wantStatus(t, nobody, http.StatusUnauthorized)
	wrong.WantSameAnswer(t, nobody)
}

func TestPasskeyLimits(t *testing.T) {
	t.Run("TwentyFirstRefused", func(t *testing.T) {
		ts := newPasskeyServer(t, apptest.Store{}, nil)
		a := apptest.NewAuthenticator(passkeyOrigin)
		token := ts.SignUp(t, "alice")
		for range 20 {
			_, token = ts.addPasskey(t, token, a, "Key")
		}
		wantStatus(t, ts.Post(t, "/users/me/passkeys/begin", token, nil), http.StatusConflict)
	})
	t.Run("Throttled", func(t *testing.T) {
		ts := newPasskeyServer(t, apptest.Store{}, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "3/15m"})
		a := apptest.NewAuthenticator(passkeyOrigin)
		ts.addPasskey(t, ts.SignUp(t, "alice"), a, "Phone")
		evil := a.Clone()
		evil.Origin = "http://evil.example"
		for range 3 {
			ts.passkeySignIn(t, evil, "").Want(t, http.StatusUnauthorized)
		}
		r := ts.passkeySignIn(t, a, "").Want(t, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
	t.Run("IPAddressBaseURL", func(t *testing.T) {
		ts := newServer(t, nil) // http://127.0.0.1:3000
		wantStatus(t, ts.Post(t, "/auth/passkey/begin", "", map[string]any{}), http.StatusConflict)
	})
}

// TestPasskeySatisfiesPolicy: an account that must set up a second factor
// may add a passkey, and is then let through.
func TestPasskeySatisfiesPolicy(t *testing.T) {
	ts := newPasskeyServer(t, apptest.Store{}, map[string]string{"PALISADE_REQUIRE_2FA": "all"})
	token := ts.SignUp(t, "alice")
	wantStatus(t, ts.Get(t, "/users/me/posts", token), http.StatusForbidden)
	_, token = ts.addPasskey(t, token, apptest.NewAuthenticator(passkeyOrigin), "Phone")
	ts.Get(t, "/users/me/posts", token).Want(t, http.StatusOK)
}
