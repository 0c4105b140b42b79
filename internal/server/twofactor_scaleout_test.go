package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestSecondFactorAcrossInstances: an authenticator app set up through
// one instance signs in through another, a code used on one is refused
// on the other, and so is an mfaToken.
func TestSecondFactorAcrossInstances(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { testSecondFactorAcrossInstances(t, db.url) })
	}
}

func testSecondFactorAcrossInstances(t *testing.T, db database) {
	nodes := cluster(t, db, 2, nil)
	a, b := apptest.NewClient(t, nodes[0].URL), apptest.NewClient(t, nodes[1].URL)
	code := func(secret string, at time.Time) string {
		c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Enrol on A.
	token := a.SignUp(t, "alice")
	var setup struct{ Secret string }
	a.Post(t, "/users/me/2fa/totp", token, nil).Want(t, http.StatusOK).JSON(t, &setup)
	var on struct{ RecoveryCodes []string }
	a.Post(t, "/users/me/2fa/totp/confirm", token, map[string]string{"code": code(setup.Secret, time.Now())}).Want(t, http.StatusOK).JSON(t, &on)

	passwordStep := func(c *apptest.Client) string {
		t.Helper()
		r := c.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": apptest.Password}).Want(t, http.StatusUnauthorized)
		var body struct{ MFAToken string }
		if err := json.Unmarshal(r.Body, &body); err != nil || body.MFAToken == "" {
			t.Fatalf("password step on %s: %s", c.Origin(), r.Body)
		}
		return body.MFAToken
	}
	second := func(c *apptest.Client, mfa, code string) *apptest.Response {
		t.Helper()
		return c.Post(t, "/auth/login/2fa", "", map[string]string{"mfaToken": mfa, "code": code})
	}

	// Sign in on B, with the secret A sealed.
	next := code(setup.Secret, time.Now().Add(30*time.Second))
	var signedIn struct{ Token string }
	second(b, passwordStep(b), next).Want(t, http.StatusOK).JSON(t, &signedIn)
	b.Get(t, "/users/me", signedIn.Token).Want(t, http.StatusOK)
	a.Get(t, "/users/me", signedIn.Token).Want(t, http.StatusOK)

	// The code B took is refused by A.
	if got := second(a, passwordStep(a), next).Want(t, http.StatusUnauthorized).ErrorText(t); got != "Invalid code" {
		t.Fatalf("a code used on B, sent to A: %q", got)
	}

	// An mfaToken used on A is refused on B.
	mfa := passwordStep(a)
	second(a, mfa, on.RecoveryCodes[0]).Want(t, http.StatusOK)
	if got := second(b, mfa, on.RecoveryCodes[1]).Want(t, http.StatusUnauthorized).ErrorText(t); !strings.Contains(got, "already used") {
		t.Fatalf("an mfaToken used on A, sent to B: %q", got)
	}
}
