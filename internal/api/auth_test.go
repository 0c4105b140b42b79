package api_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

func TestRegister(t *testing.T) { apptest.ForEachStore(t, testRegister) }

func testRegister(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)

	t.Run("Honest", func(t *testing.T) {
		r := ts.Post(t, "/auth/register", "", map[string]string{"username": "Alice_1", "password": testPassword})
		wantStatus(t, r, http.StatusCreated)
		var b struct {
			User map[string]any `json:"user"`
		}
		r.JSON(t, &b)
		if b.User["username"] != "Alice_1" || !blog.ValidID(b.User["id"].(string)) || b.User["createdAt"] == nil {
			t.Fatalf("user = %v", b.User)
		}
		if _, leaked := b.User["passwordHash"]; leaked || strings.Contains(string(r.Body), "argon2") {
			t.Fatalf("hash leaked: %s", r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("register response cacheable")
		}
	})
	t.Run("DuplicateAnyCase", func(t *testing.T) {
		r := ts.Post(t, "/auth/register", "", map[string]string{"username": "alice_1", "password": testPassword})
		wantStatus(t, r, http.StatusConflict)
	})
	t.Run("ClientCannotChooseRole", func(t *testing.T) {
		r := ts.Post(t, "/auth/register", "", map[string]string{"username": "mallory", "password": testPassword, "role": "admin"})
		wantStatus(t, r, http.StatusBadRequest)
		if _, err := ts.Store.UserByUsername(t.Context(), "mallory"); blog.ErrorCode(err) != blog.ENOTFOUND {
			t.Fatal("refused registration stored a user")
		}
	})
	bad := []struct {
		name, username, password, field string
	}{
		{"ShortPassword", "bob", "fourteen chars", "password"},
		{"LongPassword", "bob", strings.Repeat("x", 129), "password"},
		{"CommonPassword", "bob", "passwordpassword", "password"},
		{"PaddedCommonPassword", "bob", "dragon1234567890!", "password"},
		{"RepetitivePassword", "bob", "abababababababab", "password"},
		{"PasswordHasUsername", "bobby_tables", "my name is bobby_tables!", "password"},
		{"ShortUsername", "bo", testPassword, "username"},
		{"UsernameSymbols", "bob<script>", testPassword, "username"},
		{"UsernameSQL", "bob' OR '1'='1", testPassword, "username"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.Post(t, "/auth/register", "", map[string]string{"username": tt.username, "password": tt.password})
			wantStatus(t, r, http.StatusBadRequest)
			var b struct{ Errors []blog.FieldError }
			r.JSON(t, &b)
			if len(b.Errors) != 1 || b.Errors[0].Path != tt.field || b.Errors[0].Location != "body" || b.Errors[0].Type != "field" {
				t.Fatalf("errors = %+v", b.Errors)
			}
			if strings.Contains(string(r.Body), tt.password) {
				t.Fatal("password echoed in the error")
			}
		})
	}
}

// TestRegisterLookAlike: a name that looks like an existing one ("aIice",
// with a capital i, beside "alice") is refused with the same 409 as a
// taken name, which does not say which name it resembles.
func TestRegisterLookAlike(t *testing.T) {
	ts := newServer(t, nil)
	ts.Register(t, "alice")
	ts.Register(t, "mallory")
	taken := ts.Post(t, "/auth/register", "", map[string]string{"username": "ALICE", "password": testPassword})
	wantStatus(t, taken, http.StatusConflict)
	for _, name := range []string{"aIice", "AIice", "a1ice", "rnallory"} {
		t.Run(name, func(t *testing.T) {
			r := ts.Post(t, "/auth/register", "", map[string]string{"username": name, "password": testPassword})
			wantStatus(t, r, http.StatusConflict)
			if string(r.Body) != string(taken.Body) {
				t.Fatalf("look-alike answer %s differs from the taken-name answer %s", r.Body, taken.Body)
			}
			if _, err := ts.Store.UserByUsername(t.Context(), name); blog.ErrorCode(err) != blog.ENOTFOUND {
				t.Fatalf("refused look-alike stored (%v)", err)
			}
		})
	}
	t.Run("Honest", func(t *testing.T) {
		r := ts.Post(t, "/auth/register", "", map[string]string{"username": "alicia", "password": testPassword})
		wantStatus(t, r, http.StatusCreated)
	})
}

func TestLoginLogoutMe(t *testing.T) { apptest.ForEachStore(t, testLoginLogoutMe) }

func testLoginLogoutMe(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	id := ts.Register(t, "alice")

	r := ts.Post(t, "/auth/login", "", map[string]string{"username": "ALICE", "password": testPassword})
	wantStatus(t, r, http.StatusOK)
	var tok struct {
		Token     string
		ExpiresAt time.Time
	}
	r.JSON(t, &tok)
	if until := time.Until(tok.ExpiresAt); until <= 0 || until > 15*time.Minute+time.Second {
		t.Fatalf("token lifetime %v, want ≤ 15m by default", until)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("token response cacheable")
	}

	me := ts.Get(t, "/users/me", tok.Token)
	wantStatus(t, me, http.StatusOK)
	var u map[string]any
	me.JSON(t, &u)
	if u["id"] != id || u["username"] != "alice" || u["role"] != "author" || u["createdAt"] == nil {
		t.Fatalf("me = %v", u)
	}
	if me.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("authenticated response cacheable")
	}

	wantStatus(t, ts.Post(t, "/auth/logout", tok.Token, nil), http.StatusNoContent)
	t.Run("TokenRefusedAfterLogout", func(t *testing.T) {
		r := ts.Get(t, "/users/me", tok.Token)
		wantStatus(t, r, http.StatusUnauthorized)
		if r.ErrorText(t) != "Authentication required" {
			t.Fatalf("body %s", r.Body)
		}
	})
	t.Run("OtherTokensStillWork", func(t *testing.T) {
		wantStatus(t, ts.Get(t, "/users/me", ts.Login(t, "alice")), http.StatusOK)
	})
}

func TestAuthenticationRequired(t *testing.T) {
	ts := newServer(t, nil)
	r := ts.Post(t, "/posts", "", map[string]string{"title": "Hello", "content": "Some content here"})
	wantStatus(t, r, http.StatusUnauthorized)
	if r.ErrorText(t) != "Authentication required" {
		t.Fatalf("body %s, want the tutorial's {\"error\": \"Authentication required\"}", r.Body)
	}
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatal("no WWW-Authenticate: Bearer")
	}
	page, _, err := ts.Store.ListPosts(t.Context(), blog.Page{Limit: 1})
	if err != nil || len(page) != 0 {
		t.Fatalf("unauthenticated post stored (%v)", err)
	}
}

// forge signs claims with key and method; the honest token uses the
// server's key, HS256 and the claims the server issues.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestForgedTokens(t *testing.T) {
	ts := newServer(t, nil)
	honest := ts.SignUp(t, "alice")
	// Read the honest token's claims to build look-alikes.
	parts := strings.Split(honest, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims jwt.MapClaims
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("claims of the honest token: %v", err)
	}
	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		change(c)
		return c
	}
	secret := []byte(testSecret)
	otherKey := make([]byte, 32)
	rand.Read(otherKey)
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))

	tests := []struct {
		name  string
		token string
	}{
		{"AlgNone", noneHeader + "." + parts[1] + "."},
		{"AlgNoneSigned", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims)},
		{"WrongKey", forge(t, jwt.SigningMethodHS256, otherKey, claims)},
		{"OtherHMAC", forge(t, jwt.SigningMethodHS512, secret, claims)},
		{"Expired", forge(t, jwt.SigningMethodHS256, secret, with(func(c jwt.MapClaims) {
			c["iat"] = time.Now().Add(-time.Hour).Unix()
			c["exp"] = time.Now().Add(-time.Minute).Unix()
		}))},
		{"NoExpiry", forge(t, jwt.SigningMethodHS256, secret, with(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"WrongIssuer", forge(t, jwt.SigningMethodHS256, secret, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))},
		{"WrongAudience", forge(t, jwt.SigningMethodHS256, secret, with(func(c jwt.MapClaims) { c["aud"] = "other-service" }))},
		{"OtherUser", forge(t, jwt.SigningMethodHS256, secret, with(func(c jwt.MapClaims) { c["sub"] = blog.NewID() }))},
		{"NegativeTokenVersion", forge(t, jwt.SigningMethodHS256, secret, with(func(c jwt.MapClaims) { c["ver"] = -1 }))},
		{"TamperedPayload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"sub":"`, `"sub":"x`, 1))) + "." + parts[2]},
		{"Garbage", "not.a.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.Get(t, "/users/me", tt.token)
			wantStatus(t, r, http.StatusUnauthorized)
			if r.ErrorText(t) != "Authentication required" {
				t.Fatalf("body %s", r.Body)
			}
		})
	}
	t.Run("Honest", func(t *testing.T) {
		wantStatus(t, ts.Get(t, "/users/me", honest), http.StatusOK)
	})
	t.Run("TokenInQueryStringIgnored", func(t *testing.T) {
		wantStatus(t, ts.Get(t, "/users/me?token="+honest, ""), http.StatusUnauthorized)
		wantStatus(t, ts.Get(t, "/users/me?access_token="+honest, ""), http.StatusUnauthorized)
	})
	t.Run("TokenInCookieIgnored", func(t *testing.T) {
		for _, name := range []string{"token", "jwt", "Authorization", "access_token"} {
			r := ts.Do(t, request{Method: http.MethodGet, Path: "/users/me", Header: map[string]string{"Cookie": name + "=" + honest}})
			wantStatus(t, r, http.StatusUnauthorized)
		}
	})
	t.Run("WrongScheme", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodGet, Path: "/users/me", Header: map[string]string{"Authorization": "Basic " + honest}})
		wantStatus(t, r, http.StatusUnauthorized)
	})
}

func TestDisabledUserTokensRevoked(t *testing.T) {
	apptest.ForEachStore(t, testDisabledUserTokensRevoked)
}

func testDisabledUserTokensRevoked(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	id := ts.Register(t, "alice")
	token := ts.Login(t, "alice")
	wantStatus(t, ts.Get(t, "/users/me", token), http.StatusOK)
	if err := ts.Store.DisableUser(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, ts.Get(t, "/users/me", token), http.StatusUnauthorized)
	r := ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": testPassword})
	wantStatus(t, r, http.StatusUnauthorized)
}

// TestStaleTokenVersionRefused: a token that is valid in every other way
// (our key, fresh times, a real user, the version that user really had
// earlier) is refused only because the user's token version moved on.
func TestStaleTokenVersionRefused(t *testing.T) {
	ts := newServer(t, nil)
	id := ts.Register(t, "alice")
	_, hash, err := ts.Store.Credentials(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Store.SetPasswordHash(t.Context(), id, hash, blog.PasswordChanged); err != nil {
		t.Fatal(err)
	}
	u, err := ts.Store.UserByID(t.Context(), id)
	if err != nil || u.TokenVersion < 1 {
		t.Fatalf("after the bump: %+v, %v", u, err)
	}
	honest := ts.Login(t, "alice")
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(honest, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.MapClaims
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["ver"] != float64(u.TokenVersion) {
		t.Fatalf("honest token ver = %v, want %d", claims["ver"], u.TokenVersion)
	}
	claims["ver"] = u.TokenVersion - 1
	claims["jti"] = base64.RawURLEncoding.EncodeToString([]byte("another-token-id"))
	stale := forge(t, jwt.SigningMethodHS256, []byte(testSecret), claims)

	wantStatus(t, ts.Get(t, "/users/me", honest), http.StatusOK)
	r := ts.Get(t, "/users/me", stale)
	wantStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(ts.Logs.String(), `"reason":"superseded"`) {
		t.Fatalf("the stale token was not refused for its version:\n%s", ts.Logs.String())
	}
}

// TestDisabledFlagAloneRefusesToken: the disabled flag shuts the account
// out by itself, not only through the token version that DisableUser also
// bumps (a store, migration or admin tool could set the flag alone).
func TestDisabledFlagAloneRefusesToken(t *testing.T) {
	ts := newServer(t, nil)
	id := ts.Register(t, "alice")
	token := ts.Login(t, "alice")
	ts.Register(t, "bob")
	other := ts.Login(t, "bob")
	wantStatus(t, ts.Get(t, "/users/me", token), http.StatusOK)
	before, err := ts.Store.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	ts.DisableOnly(t, id)
	after, err := ts.Store.UserByID(t.Context(), id)
	if err != nil || !after.Disabled || after.TokenVersion != before.TokenVersion {
		t.Fatalf("after a flag-only disable: %+v, %v", after, err)
	}
	wantStatus(t, ts.Get(t, "/users/me", token), http.StatusUnauthorized)
	wantStatus(t, ts.Get(t, "/users/me", other), http.StatusOK)
}

func TestPasswordChangeRevokesTokens(t *testing.T) {
	apptest.ForEachStore(t, testPasswordChangeRevokesTokens)
}

func testPasswordChangeRevokesTokens(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	id := ts.Register(t, "alice")
	token := ts.Login(t, "alice")
	_, hash, err := ts.Store.Credentials(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Store.SetPasswordHash(t.Context(), id, hash, blog.PasswordChanged); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, ts.Get(t, "/users/me", token), http.StatusUnauthorized)
	wantStatus(t, ts.Get(t, "/users/me", ts.Login(t, "alice")), http.StatusOK)
}

// TestLoginDoesNotRevealAccounts: an unknown user and a wrong password get
// byte-identical answers; both run one password hash (timing is measured by
// the benchmark below, not asserted, as the machines are noisy).
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	apptest.ForEachStore(t, testLoginDoesNotRevealAccounts)
}

func testLoginDoesNotRevealAccounts(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	ts.Register(t, "alice")
	unknown := ts.Post(t, "/auth/login", "", map[string]string{"username": "nobody", "password": testPassword})
	wrong := ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": "wrong " + testPassword})
	wantStatus(t, unknown, http.StatusUnauthorized)
	wantStatus(t, wrong, http.StatusUnauthorized)
	if string(unknown.Body) != string(wrong.Body) {
		t.Fatalf("bodies differ:\nunknown user:   %s\nwrong password: %s", unknown.Body, wrong.Body)
	}
	for _, h := range []string{"Content-Type", "Content-Length", "WWW-Authenticate", "Cache-Control"} {
		if unknown.Header.Get(h) != wrong.Header.Get(h) {
			t.Fatalf("header %s differs: %q vs %q", h, unknown.Header.Get(h), wrong.Header.Get(h))
		}
	}
}

func TestLoginLookalikeUsername(t *testing.T) { apptest.ForEachStore(t, testLoginLookalikeUsername) }

func testLoginLookalikeUsername(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	ts.Register(t, "kelly")
	// U+212A KELVIN SIGN lower-cases to "k" under Unicode rules; it must not
	// reach the account.
	r := ts.Post(t, "/auth/login", "", map[string]string{"username": "\u212Aelly", "password": testPassword})
	wantStatus(t, r, http.StatusUnauthorized)
}

func TestLoginBruteForce(t *testing.T) { apptest.ForEachStore(t, testLoginBruteForce) }

func testLoginBruteForce(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "5/15m"})
	ts.Register(t, "alice")
	ts.Register(t, "bob")
	guess := func(user, pw string, ip string) *response {
		return ts.Do(t, request{Method: http.MethodPost, Path: "/auth/login",
			Body: map[string]string{"username": user, "password": pw}})
	}
	for i := range 5 {
		wantStatus(t, guess("alice", "wrong guess number "+string(rune('a'+i)), ""), http.StatusUnauthorized)
	}
	t.Run("SixthGuessRefused", func(t *testing.T) {
		r := guess("alice", "wrong guess number f", "")
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.ErrorText(t) != "Too many requests, please try again later." || r.Header.Get("Retry-After") == "" {
			t.Fatalf("429 body %s, Retry-After %q", r.Body, r.Header.Get("Retry-After"))
		}
	})
	t.Run("EvenTheRightPasswordWaits", func(t *testing.T) {
		wantStatus(t, guess("alice", testPassword, ""), http.StatusTooManyRequests)
	})
	t.Run("LoggedAsSecurityEvents", func(t *testing.T) {
		logs := ts.Logs.String()
		if strings.Count(logs, `"event":"login.failure"`) != 5 || !strings.Contains(logs, `"event":"login.throttled"`) {
			t.Fatalf("security events missing from logs:\n%s", logs)
		}
	})
}

// TestLoginCredentialStuffing: one client trying a leaked password on many
// accounts never reaches an account's limit; the client's limit stops it.
func TestLoginCredentialStuffing(t *testing.T) {
	ts := newServer(t, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "3/15m"})
	names := []string{"alice", "bob", "carol", "dave"}
	for _, name := range names {
		ts.Register(t, name)
	}
	try := func(user, pw string) *response {
		return ts.Post(t, "/auth/login", "", map[string]string{"username": user, "password": pw})
	}
	for _, name := range names[:3] {
		wantStatus(t, try(name, "a leaked password"), http.StatusUnauthorized)
	}
	r := try(names[3], "a leaked password")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func TestLoginThrottlePerAccount(t *testing.T) { apptest.ForEachStore(t, testLoginThrottlePerAccount) }

func testLoginThrottlePerAccount(t *testing.T, st apptest.Store) {
	// Per-client limit high, per-account low: guesses spread over many
	// clients (a botnet) still lock the one account.
	ts := newServerOn(t, st, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "3/15m", "PALISADE_TRUSTED_PROXIES": "127.0.0.1/32"})
	ts.Register(t, "alice")
	ts.Register(t, "bob")
	from := func(ip, user, pw string) *response {
		return ts.Do(t, request{Method: http.MethodPost, Path: "/auth/login",
			Body: map[string]string{"username": user, "password": pw}, Header: map[string]string{"X-Forwarded-For": ip}})
	}
	for i := range 3 {
		wantStatus(t, from("203.0.113."+string(rune('1'+i)), "alice", "a wrong password guess"), http.StatusUnauthorized)
	}
	wantStatus(t, from("203.0.113.50", "alice", "a wrong password guess"), http.StatusTooManyRequests)
	t.Run("OtherAccountUnaffected", func(t *testing.T) {
		wantStatus(t, from("203.0.113.50", "bob", testPassword), http.StatusOK)
	})
	t.Run("SuccessDoesNotUseClientBudget", func(t *testing.T) {
		for range 5 {
			wantStatus(t, from("198.51.100.7", "bob", testPassword), http.StatusOK)
		}
	})
}

func TestLoginWithDefaultArgon2Params(t *testing.T) {
	if testing.Short() {
		t.Skip("argon2id at full cost is slow; skipped with -short")
	}
	ts := newServerWithDefaultHasher(t)
	ts.Register(t, "alice")
	wantStatus(t, ts.Get(t, "/users/me", ts.Login(t, "alice")), http.StatusOK)
	_, hash, err := ts.Store.Credentials(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("stored hash %q is not argon2id with OWASP's parameters", hash)
	}
}
