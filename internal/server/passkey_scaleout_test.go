package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestPasskeysAcrossInstances: a passkey ceremony begun on one instance
// finishes on another (the ceremony lives in the shared session store),
// a ceremony used on one is refused on the other, and a cloned
// authenticator is caught whichever instance each copy signs in through.
func TestPasskeysAcrossInstances(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { testPasskeysAcrossInstances(t, db.url) })
	}
}

func testPasskeysAcrossInstances(t *testing.T, db database) {
	// Passkeys need a domain name; every instance serves the same one.
	const origin = "http://localhost:3000"
	nodes := cluster(t, db, 2, map[string]string{"PALISADE_BASE_URL": origin})
	a, b := apptest.NewClient(t, nodes[0].URL), apptest.NewClient(t, nodes[1].URL)
	auth := apptest.NewAuthenticator(origin)

	type ceremony struct {
		CeremonyToken string
		PublicKey     json.RawMessage
	}
	begin := func(c *apptest.Client, path, token string, body any) (ceremony, []byte) {
		t.Helper()
		var cer ceremony
		c.Post(t, path, token, body).Want(t, http.StatusOK).JSON(t, &cer)
		opts, err := json.Marshal(map[string]json.RawMessage{"publicKey": cer.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		return cer, opts
	}

	// Register: begun on A, finished on B.
	token := a.SignUp(t, "alice")
	cer, opts := begin(a, "/users/me/passkeys/begin", token, nil)
	cred, err := auth.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.Post(t, "/users/me/passkeys/finish", token, map[string]any{"ceremonyToken": cer.CeremonyToken, "name": "Phone", "credential": json.RawMessage(cred)}).
		Want(t, http.StatusCreated)

	// Sign in: begun on B, finished on A; the same ceremony again on B
	// is refused.
	cer, opts = begin(b, "/auth/passkey/begin", "", map[string]any{})
	if cred, err = auth.Get(opts); err != nil {
		t.Fatal(err)
	}
	finish := map[string]any{"ceremonyToken": cer.CeremonyToken, "credential": json.RawMessage(cred)}
	var signedIn struct{ Token string }
	a.Post(t, "/auth/passkey/finish", "", finish).Want(t, http.StatusOK).JSON(t, &signedIn)
	b.Get(t, "/users/me", signedIn.Token).Want(t, http.StatusOK)
	b.Post(t, "/auth/passkey/finish", "", finish).Want(t, http.StatusUnauthorized)

	// A copy of the authenticator, behind the original's counter, is
	// refused on the other instance.
	clone := auth.Clone()
	cer, opts = begin(a, "/auth/passkey/begin", "", map[string]any{})
	if cred, err = auth.Get(opts); err != nil {
		t.Fatal(err)
	}
	a.Post(t, "/auth/passkey/finish", "", map[string]any{"ceremonyToken": cer.CeremonyToken, "credential": json.RawMessage(cred)}).Want(t, http.StatusOK)
	cer, opts = begin(b, "/auth/passkey/begin", "", map[string]any{})
	if cred, err = clone.Get(opts); err != nil {
		t.Fatal(err)
	}
	b.Post(t, "/auth/passkey/finish", "", map[string]any{"ceremonyToken": cer.CeremonyToken, "credential": json.RawMessage(cred)}).Want(t, http.StatusUnauthorized)
}
