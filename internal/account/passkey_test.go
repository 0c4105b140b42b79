package account_test

import (
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// addPasskey registers a passkey of a (a new authenticator when nil) to
// the account name and returns the account as it now is.
func (f *fixture) addPasskey(t *testing.T, name string, a *apptest.Authenticator) blog.User {
	t.Helper()
	u := f.mustUser(t, name)
	c, err := f.svc.BeginPasskeyRegistration(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := a.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishPasskeyRegistration(t.Context(), u, c.Token, "Phone", cred); err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return f.mustUser(t, name)
}

func TestPasskeySmoke(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "alice")
	a := apptest.NewAuthenticator(fixtureOrigin)
	u := f.addPasskey(t, "alice", a)
	if u.Passkeys != 1 {
		t.Fatalf("passkeys = %d", u.Passkeys)
	}
	c, err := f.svc.BeginPasskeySignIn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := a.Get(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred)
	if err != nil || got.ID != u.ID {
		t.Fatalf("FinishPasskeySignIn = %v, %v", got.ID, err)
	}
}
