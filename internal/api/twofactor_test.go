package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/auth"
)

// totpCode is what an authenticator app holding secret shows at time at,
// computed independently of the server's code.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// staleToken is a genuine access token for username, issued 11 minutes
// ago (so still valid for 4 minutes): signed in, but not recently.
func (ts *testServer) staleToken(t testing.TB, username string) string {
	t.Helper()
	token, _ := ts.tokenIssuedAgo(t, username, 11*time.Minute)
	return token
}

// tokenIssuedAgo is a genuine access token for username issued ago.
func (ts *testServer) tokenIssuedAgo(t testing.TB, username string, ago time.Duration) (string, auth.Claims) {
	t.Helper()
	u, err := ts.Store.UserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-ago)
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret), Issuer: ts.Config.BaseURL.String(), Audience: "palisade-api",
		TTL: ts.Config.JWTTTL, Now: func() time.Time { return then }})
	if err != nil {
		t.Fatal(err)
	}
	token, claims, err := tokens.Issue(u.ID, u.TokenVersion)
	if err != nil {
		t.Fatal(err)
	}
	return token, claims
}

// verifyToken returns the claims of a token the server issued.
func (ts *testServer) verifyToken(t testing.TB, token string) auth.Claims {
	t.Helper()
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret), Issuer: ts.Config.BaseURL.String(), Audience: "palisade-api", TTL: ts.Config.JWTTTL})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tokens.Verify(token)
	if err != nil {
		t.Fatalf("the server's token does not verify: %v", err)
	}
	return c
}

// tokenBody is the answer of a sign-in.
type tokenBody struct {
	Token     string
	ExpiresAt time.Time
}

// enrolment is an account with an authenticator app on.
type enrolment struct {
	secret   string
	recovery []string
	token    string // the token confirm returned
}

// enrolTOTP turns TOTP on for the holder of token, with a code of now.
func (ts *testServer) enrolTOTP(t testing.TB, token string) enrolment {
	t.Helper()
	var setup struct{ Secret, OtpauthURL string }
	ts.Post(t, "/users/me/2fa/totp", token, nil).Want(t, http.StatusOK).JSON(t, &setup)
	if setup.Secret == "" || !strings.HasPrefix(setup.OtpauthURL, "otpauth://totp/") {
		t.Fatalf("setup = %+v", setup)
	}
	var done struct {
		RecoveryCodes []string
		Token         string
	}
	ts.Post(t, "/users/me/2fa/totp/confirm", token, map[string]string{"code": totpCode(t, setup.Secret, time.Now())}).Want(t, http.StatusOK).JSON(t, &done)
	if len(done.RecoveryCodes) != 10 || done.Token == "" {
		t.Fatalf("confirm = %+v", done)
	}
	return enrolment{secret: setup.Secret, recovery: done.RecoveryCodes, token: done.Token}
}

// passwordStep signs username in with the password and returns the
// mfaToken of the 401 that asks for a second factor.
func (ts *testServer) passwordStep(t testing.TB, username string) string {
	t.Helper()
	r := ts.Post(t, "/auth/login", "", map[string]string{"username": username, "password": testPassword}).Want(t, http.StatusUnauthorized)
	var b struct {
		Error, MFAToken string
		Methods         []string
	}
	r.JSON(t, &b)
	if b.Error != "Second factor required" || b.MFAToken == "" || len(b.Methods) != 2 {
		t.Fatalf("password step answered %s", r.Body)
	}
	return b.MFAToken
}

// secondStep sends the second step of a sign-in.
func (ts *testServer) secondStep(t testing.TB, mfaToken, code string) *response {
	t.Helper()
	return ts.Post(t, "/auth/login/2fa", "", map[string]string{"mfaToken": mfaToken, "code": code})
}

// nextCode is a code of a step after any used so far: the current step
// plus one, within the accepted skew.
func nextCode(t testing.TB, secret string) string {
	t.Helper()
	return totpCode(t, secret, time.Now().Add(30*time.Second))
}

func TestTwoFactorFlow(t *testing.T) { apptest.ForEachStore(t, testTwoFactorFlow) }

func testTwoFactorFlow(t *testing.T, st apptest.Store) {
	// Its deliberate failures are more than the default sign-in limit;
	// TestSecondFactorThrottled is about that limit.
	ts := newServerOn(t, st, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "100/15m"})
	token := ts.SignUp(t, "alice")
	e := ts.enrolTOTP(t, token)

	t.Run("OldTokenEndedNewOneWorks", func(t *testing.T) {
		wantStatus(t, ts.Get(t, "/users/me", token), http.StatusUnauthorized)
		var me struct {
			TwoFactor struct {
				TOTP              bool
				RecoveryCodesLeft int
				Required          bool
			}
		}
		ts.Get(t, "/users/me", e.token).Want(t, http.StatusOK).JSON(t, &me)
		if !me.TwoFactor.TOTP || me.TwoFactor.RecoveryCodesLeft != 10 || me.TwoFactor.Required {
			t.Fatalf("twoFactor = %+v", me.TwoFactor)
		}
	})

	var signedIn string
	t.Run("SignInWithCode", func(t *testing.T) {
		mfa := ts.passwordStep(t, "alice")
		// The mfaToken is no access token.
		wantStatus(t, ts.Get(t, "/users/me", mfa), http.StatusUnauthorized)
		var b tokenBody
		ts.secondStep(t, mfa, nextCode(t, e.secret)).Want(t, http.StatusOK).JSON(t, &b)
		wantStatus(t, ts.Get(t, "/users/me", b.Token), http.StatusOK)
		signedIn = b.Token

		t.Run("ReusedMFATokenRefused", func(t *testing.T) {
			r := ts.secondStep(t, mfa, e.recovery[0]).Want(t, http.StatusUnauthorized)
			if got := r.ErrorText(t); !strings.Contains(got, "expired or was already used") {
				t.Fatalf("reused mfaToken: %q", got)
			}
		})
		t.Run("ReplayedCodeRefused", func(t *testing.T) {
			r := ts.secondStep(t, ts.passwordStep(t, "alice"), nextCode(t, e.secret)).Want(t, http.StatusUnauthorized)
			if got := r.ErrorText(t); got != "Invalid code" {
				t.Fatalf("replayed code: %q", got)
			}
			if !strings.Contains(ts.Logs.String(), `"event":"2fa.replay"`) {
				t.Fatal("replay not logged")
			}
		})
	})

	t.Run("WrongCodeRefused", func(t *testing.T) {
		mfa := ts.passwordStep(t, "alice")
		r := ts.secondStep(t, mfa, "000000").Want(t, http.StatusUnauthorized)
		if got := r.ErrorText(t); got != "Invalid code" {
			t.Fatalf("wrong code: %q", got)
		}
		// A typo does not end the sign-in.
		ts.secondStep(t, mfa, e.recovery[1]).Want(t, http.StatusOK)
	})

	t.Run("ExpiredMFATokenRefused", func(t *testing.T) {
		u, err := ts.Store.UserByUsername(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		then := time.Now().Add(-6 * time.Minute)
		mfaTokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret), Issuer: ts.Config.BaseURL.String(), Audience: "palisade-mfa",
			TTL: 5 * time.Minute, Now: func() time.Time { return then }})
		if err != nil {
			t.Fatal(err)
		}
		old, _, err := mfaTokens.Issue(u.ID, u.TokenVersion)
		if err != nil {
			t.Fatal(err)
		}
		// The same token, made now, works: only its age is wrong.
		ts.secondStep(t, old, e.recovery[2]).Want(t, http.StatusUnauthorized)
		ts.secondStep(t, ts.passwordStep(t, "alice"), e.recovery[2]).Want(t, http.StatusOK)
	})

	t.Run("ReauthenticationRequired", func(t *testing.T) {
		stale := ts.staleToken(t, "alice")
		wantStatus(t, ts.Get(t, "/users/me", stale), http.StatusOK)
		r := ts.Post(t, "/users/me/2fa/recovery-codes", stale, nil).Want(t, http.StatusForbidden)
		var b struct{ Message string }
		r.JSON(t, &b)
		if b.Message != "Re-authentication required" {
			t.Fatalf("stale token: %s", r.Body)
		}
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/users/me/2fa/totp", Token: stale}), http.StatusForbidden)
		// Re-authenticating with the password gives a fresh token that
		// may.
		var fresh tokenBody
		ts.Post(t, "/auth/reauth", stale, map[string]string{"password": testPassword}).Want(t, http.StatusOK).JSON(t, &fresh)
		var codes struct {
			RecoveryCodes []string
			Token         string
		}
		ts.Post(t, "/users/me/2fa/recovery-codes", fresh.Token, nil).Want(t, http.StatusOK).JSON(t, &codes)
		if len(codes.RecoveryCodes) != 10 {
			t.Fatalf("codes = %+v", codes)
		}
		// The new codes ended every other token; the returned one works.
		wantStatus(t, ts.Get(t, "/users/me", signedIn), http.StatusUnauthorized)
		wantStatus(t, ts.Get(t, "/users/me", codes.Token), http.StatusOK)
		// The old recovery codes are gone, the new ones work.
		wantStatus(t, ts.secondStep(t, ts.passwordStep(t, "alice"), e.recovery[3]), http.StatusUnauthorized)
		ts.secondStep(t, ts.passwordStep(t, "alice"), codes.RecoveryCodes[0]).Want(t, http.StatusOK)

		t.Run("WithCode", func(t *testing.T) {
			stale := ts.staleToken(t, "alice")
			wantStatus(t, ts.Post(t, "/auth/reauth", stale, map[string]string{"code": "000000"}), http.StatusUnauthorized)
			ts.Post(t, "/auth/reauth", stale, map[string]string{"code": codes.RecoveryCodes[1]}).Want(t, http.StatusOK)
		})
		t.Run("WrongPassword", func(t *testing.T) {
			r := ts.Post(t, "/auth/reauth", ts.staleToken(t, "alice"), map[string]string{"password": "not the password at all"}).Want(t, http.StatusUnauthorized)
			if got := r.ErrorText(t); got != "Invalid username or password" {
				t.Fatalf("wrong password: %q", got)
			}
		})
	})

	// A change made while the sign-in is recent re-issues the token (the
	// change ended the old one) but must not make the sign-in recent
	// again: the new token keeps the old one's iat and expiry, so a change
	// every nine minutes can't keep a stolen session able to change
	// factors for ever.
	t.Run("ReissueKeepsTheSignInTime", func(t *testing.T) {
		old, oldClaims := ts.tokenIssuedAgo(t, "alice", 9*time.Minute)
		var codes struct{ Token string }
		ts.Post(t, "/users/me/2fa/recovery-codes", old, nil).Want(t, http.StatusOK).JSON(t, &codes)
		got := ts.verifyToken(t, codes.Token)
		if !got.IssuedAt.Equal(oldClaims.IssuedAt) || !got.ExpiresAt.Equal(oldClaims.ExpiresAt) || got.TokenID == oldClaims.TokenID {
			t.Fatalf("re-issued token: iat %v exp %v id %s; want iat %v exp %v and a new id", got.IssuedAt, got.ExpiresAt, got.TokenID, oldClaims.IssuedAt, oldClaims.ExpiresAt)
		}
		wantStatus(t, ts.Get(t, "/users/me", codes.Token), http.StatusOK)
		wantStatus(t, ts.Get(t, "/users/me", old), http.StatusUnauthorized)
	})

	t.Run("TurnOff", func(t *testing.T) {
		var fresh tokenBody
		ts.Post(t, "/auth/reauth", ts.staleToken(t, "alice"), map[string]string{"password": testPassword}).Want(t, http.StatusOK).JSON(t, &fresh)
		var off tokenBody
		ts.Do(t, request{Method: http.MethodDelete, Path: "/users/me/2fa/totp", Token: fresh.Token}).Want(t, http.StatusOK).JSON(t, &off)
		wantStatus(t, ts.Get(t, "/users/me", fresh.Token), http.StatusUnauthorized)
		wantStatus(t, ts.Get(t, "/users/me", off.Token), http.StatusOK)
		// Signing in takes the password alone again.
		ts.Login(t, "alice")
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/users/me/2fa/totp", Token: off.Token}), http.StatusConflict)
	})

	t.Run("NoSecretInLogs", func(t *testing.T) {
		logs := ts.Logs.String()
		for _, s := range append([]string{e.secret}, e.recovery...) {
			if strings.Contains(logs, s) {
				t.Fatalf("the log holds %q", s)
			}
		}
	})
}

// TestSecondFactorLoginDoesNotRevealAccounts: for an account with a
// second factor, an unknown name and a wrong password still get one
// answer, with no mfaToken.
func TestSecondFactorLoginDoesNotRevealAccounts(t *testing.T) {
	ts := newServer(t, nil)
	ts.enrolTOTP(t, ts.SignUp(t, "alice"))
	unknown := ts.Post(t, "/auth/login", "", map[string]string{"username": "nobody", "password": testPassword})
	wrong := ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": "wrong " + testPassword})
	wantStatus(t, unknown, http.StatusUnauthorized)
	wrong.WantSameAnswer(t, unknown)
	if strings.Contains(wrong.Text(), "mfaToken") {
		t.Fatalf("a wrong password got an mfaToken: %s", wrong.Body)
	}
}

// TestSecondFactorThrottled: wrong codes count against the account's
// sign-in limit, whatever the client.
func TestSecondFactorThrottled(t *testing.T) {
	ts := newServer(t, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "3/15m"})
	e := ts.enrolTOTP(t, ts.SignUp(t, "alice"))
	mfa := ts.passwordStep(t, "alice")
	for range 3 {
		wantStatus(t, ts.secondStep(t, mfa, "000000"), http.StatusUnauthorized)
	}
	r := ts.secondStep(t, mfa, nextCode(t, e.secret)).Want(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

// TestEnrolmentPolicy: an account the policy requires a second factor of
// can do nothing else until it has one, and can still set one up.
func TestEnrolmentPolicy(t *testing.T) {
	ts := newServer(t, map[string]string{"PALISADE_REQUIRE_2FA": "all"})
	token := ts.SignUp(t, "alice")
	r := ts.Post(t, "/posts", token, map[string]string{"title": "Title", "content": "Long enough content"}).Want(t, http.StatusForbidden)
	var b struct{ Message string }
	r.JSON(t, &b)
	if !strings.Contains(b.Message, "set it up first") {
		t.Fatalf("policy 403: %s", r.Body)
	}
	wantStatus(t, ts.Get(t, "/users/me/posts", token), http.StatusForbidden)
	wantStatus(t, ts.Post(t, "/users/me/password", token, map[string]string{"currentPassword": testPassword, "newPassword": "a brand new passphrase, long enough"}), http.StatusForbidden)
	var me struct{ TwoFactor struct{ TOTP, Required bool } }
	ts.Get(t, "/users/me", token).Want(t, http.StatusOK).JSON(t, &me)
	if me.TwoFactor.TOTP || !me.TwoFactor.Required {
		t.Fatalf("twoFactor = %+v", me.TwoFactor)
	}
	ts.Post(t, "/auth/reauth", token, map[string]string{"password": testPassword}).Want(t, http.StatusOK)
	wantStatus(t, ts.Post(t, "/auth/logout", ts.Login(t, "alice"), nil), http.StatusNoContent)
	e := ts.enrolTOTP(t, token)
	ts.createPost(t, e.token, "Title", "Long enough content")
	wantStatus(t, ts.Post(t, "/auth/logout", e.token, nil), http.StatusNoContent)

	t.Run("AdminsByDefault", func(t *testing.T) {
		ts := newServer(t, map[string]string{"PALISADE_REQUIRE_2FA": "admins"})
		author := ts.SignUp(t, "author")
		ts.createPost(t, author, "Title", "Long enough content")
		id := ts.Register(t, "admin")
		if err := ts.Store.SetRole(t.Context(), id, "admin"); err != nil {
			t.Fatal(err)
		}
		admin := ts.Login(t, "admin")
		wantStatus(t, ts.Post(t, "/posts", admin, map[string]string{"title": "Title", "content": "Long enough content"}), http.StatusForbidden)

		// GET /posts/{id} reads a token only for a draft: an admin held
		// by the policy reads it as anyone does (the same 404 as a post
		// that does not exist), not as an admin.
		var draft struct{ Post struct{ ID string } }
		ts.Post(t, "/posts", author, map[string]string{"title": "Draft title", "content": "Long enough content", "status": "draft"}).Want(t, http.StatusCreated).JSON(t, &draft)
		wantStatus(t, ts.Get(t, "/posts/"+draft.Post.ID, author), http.StatusOK)
		wantStatus(t, ts.Get(t, "/posts/"+draft.Post.ID, admin), http.StatusNotFound)
		e := ts.enrolTOTP(t, admin)
		wantStatus(t, ts.Get(t, "/posts/"+draft.Post.ID, e.token), http.StatusOK)
	})
}
