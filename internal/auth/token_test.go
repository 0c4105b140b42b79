package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIss = "https://blog.example"
	testAud = "palisade-api"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
	testNow     = time.Unix(1_700_000_000, 0)
)

// testTokens returns Tokens on a clock the test can move.
func testTokens(t testing.TB) (*Tokens, *time.Time) {
	t.Helper()
	now := testNow
	tk, err := NewTokens(TokenConfig{
		Secret:   testSecret,
		Issuer:   testIss,
		Audience: testAud,
		Now:      func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk, &now
}

// honestClaims are the claims Issue would write, as a map the attack cases
// can edit.
func honestClaims() map[string]any {
	return map[string]any{
		"iss": testIss,
		"aud": []any{testAud},
		"sub": "user-42",
		"jti": "AAAAAAAAAAAAAAAAAAAAAA",
		"ver": 3,
		"iat": testNow.Unix(),
		"exp": testNow.Add(15 * time.Minute).Unix(),
	}
}

func b64url(v any) string {
	var b []byte
	switch v := v.(type) {
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic(err)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// mint builds a token by hand, so that tests don't depend on the library to
// produce the hostile ones. newMAC nil means an empty signature.
func mint(header, claims map[string]any, newMAC func() hash.Hash, key []byte) string {
	input := b64url(header) + "." + b64url(claims)
	if newMAC == nil {
		return input + "."
	}
	m := hmac.New(newMAC, key)
	m.Write([]byte(input))
	return input + "." + b64url(m.Sum(nil))
}

var hs256 = map[string]any{"alg": "HS256", "typ": "JWT"}

func without(m map[string]any, key string) map[string]any {
	c := maps.Clone(m)
	delete(c, key)
	return c
}

func with(m map[string]any, key string, v any) map[string]any {
	c := maps.Clone(m)
	c[key] = v
	return c
}

// checkRefused asserts that tok fails verification with an error that wraps
// ErrInvalidToken and doesn't quote the token.
func checkRefused(t *testing.T, tk *Tokens, tok string) {
	t.Helper()
	_ = refusal(t, tk, tok) // checked inside
}

// refusal is checkRefused for a caller that looks closer at the error.
func refusal(t *testing.T, tk *Tokens, tok string) error {
	t.Helper()
	c, err := tk.Verify(tok)
	if err == nil {
		t.Fatalf("Verify accepted the token: %+v", c)
	}
	if !errors.Is(err, ErrInvalidToken) {
		t.Errorf("error %v does not wrap ErrInvalidToken", err)
	}
	if c != (Claims{}) {
		t.Errorf("claims returned with error: %+v", c)
	}
	checkNoLeak(t, err, tok)
	t.Logf("refused: %v", err)
	return err
}

func checkNoLeak(t testing.TB, err error, tok string) {
	t.Helper()
	msg := err.Error()
	if tok != "" && strings.Contains(msg, tok) {
		t.Errorf("error message contains the token: %q", msg)
	}
	for seg := range strings.SplitSeq(tok, ".") {
		if len(seg) >= 4 && strings.Contains(msg, seg) {
			t.Errorf("error message contains a token segment: %q", msg)
		}
	}
}

func TestIssueVerify(t *testing.T) {
	tk, now := testTokens(t)
	tok, issued, err := tk.Issue("user-42", 7)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := tk.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got != issued {
			t.Errorf("Verify = %+v, Issue said %+v", got, issued)
		}
		if got.UserID != "user-42" || got.Version != 7 {
			t.Errorf("claims = %+v", got)
		}
		if !got.IssuedAt.Equal(testNow) || !got.ExpiresAt.Equal(testNow.Add(15*time.Minute)) {
			t.Errorf("times = %v .. %v", got.IssuedAt, got.ExpiresAt)
		}
	})
	t.Run("jti is random 128-bit base64url", func(t *testing.T) {
		_, other, err := tk.Issue("user-42", 7)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(issued.TokenID)
		if err != nil || len(raw) != 16 {
			t.Errorf("jti %q: %d bytes, %v", issued.TokenID, len(raw), err)
		}
		if other.TokenID == issued.TokenID {
			t.Error("two tokens share a jti")
		}
	})
	t.Run("version 0", func(t *testing.T) {
		tok, _, err := tk.Issue("u", 0)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := tk.Verify(tok); err != nil || c.Version != 0 {
			t.Errorf("Verify = %+v, %v", c, err)
		}
	})
	t.Run("hand-minted honest token passes", func(t *testing.T) {
		// Control for the attacks below: mint itself is sound.
		c, err := tk.Verify(mint(hs256, honestClaims(), sha256.New, testSecret))
		if err != nil {
			t.Fatal(err)
		}
		if c.UserID != "user-42" || c.Version != 3 || c.TokenID != "AAAAAAAAAAAAAAAAAAAAAA" {
			t.Errorf("claims = %+v", c)
		}
	})
	t.Run("refuses empty subject", func(t *testing.T) {
		if _, _, err := tk.Issue("", 1); err == nil {
			t.Error("Issue accepted an empty user ID")
		}
	})
	t.Run("refuses negative version", func(t *testing.T) {
		if _, _, err := tk.Issue("u", -1); err == nil {
			t.Error("Issue accepted a negative version")
		}
	})

	t.Run("within leeway after exp", func(t *testing.T) {
		*now = testNow.Add(15*time.Minute + 2*time.Second)
		defer func() { *now = testNow }()
		if _, err := tk.Verify(tok); err != nil {
			t.Errorf("Verify = %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		*now = testNow.Add(15*time.Minute + 31*time.Second)
		defer func() { *now = testNow }()
		err := refusal(t, tk, tok)
		if !errors.Is(err, jwt.ErrTokenExpired) {
			t.Errorf("error %v does not wrap jwt.ErrTokenExpired", err)
		}
	})
}

func TestVerifyRefusesAttacks(t *testing.T) {
	tk, _ := testTokens(t)
	honest := honestClaims()
	if _, err := tk.Verify(mint(hs256, honest, sha256.New, testSecret)); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	validTok, _, err := tk.Issue("user-42", 3)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(validTok, ".")

	cases := map[string]string{
		"alg none": mint(map[string]any{"alg": "none", "typ": "JWT"}, honest, nil, nil),
		"alg None": mint(map[string]any{"alg": "None", "typ": "JWT"}, honest, nil, nil),
		"alg none with a signature": func() string {
			tok := mint(map[string]any{"alg": "none", "typ": "JWT"}, honest, nil, nil)
			return tok + parts[2]
		}(),
		"no alg":           mint(map[string]any{"typ": "JWT"}, honest, sha256.New, testSecret),
		"HS512":            mint(map[string]any{"alg": "HS512", "typ": "JWT"}, honest, sha512.New, testSecret),
		"HS384":            mint(map[string]any{"alg": "HS384", "typ": "JWT"}, honest, sha512.New384, testSecret),
		"RS256 header":     mint(map[string]any{"alg": "RS256", "typ": "JWT"}, honest, sha256.New, testSecret),
		"ES256 header":     mint(map[string]any{"alg": "ES256", "typ": "JWT"}, honest, sha256.New, testSecret),
		"wrong key":        mint(hs256, honest, sha256.New, otherSecret),
		"empty key":        mint(hs256, honest, sha256.New, nil),
		"no exp":           mint(hs256, without(honest, "exp"), sha256.New, testSecret),
		"no iat":           mint(hs256, without(honest, "iat"), sha256.New, testSecret),
		"iat in future":    mint(hs256, with(honest, "iat", testNow.Add(time.Minute).Unix()), sha256.New, testSecret),
		"exp before iat":   mint(hs256, with(honest, "exp", testNow.Add(-time.Second).Unix()), sha256.New, testSecret),
		"long expired":     mint(hs256, with(with(honest, "iat", 1), "exp", 2), sha256.New, testSecret),
		"nbf in future":    mint(hs256, with(honest, "nbf", testNow.Add(time.Minute).Unix()), sha256.New, testSecret),
		"exp not a number": mint(hs256, with(honest, "exp", "soon"), sha256.New, testSecret),
		"wrong iss":        mint(hs256, with(honest, "iss", "https://evil.example"), sha256.New, testSecret),
		"no iss":           mint(hs256, without(honest, "iss"), sha256.New, testSecret),
		"wrong aud":        mint(hs256, with(honest, "aud", "other-api"), sha256.New, testSecret),
		"no aud":           mint(hs256, without(honest, "aud"), sha256.New, testSecret),
		"no jti":           mint(hs256, without(honest, "jti"), sha256.New, testSecret),
		"empty jti":        mint(hs256, with(honest, "jti", ""), sha256.New, testSecret),
		"no sub":           mint(hs256, without(honest, "sub"), sha256.New, testSecret),
		"empty sub":        mint(hs256, with(honest, "sub", ""), sha256.New, testSecret),
		"no ver":           mint(hs256, without(honest, "ver"), sha256.New, testSecret),
		"ver as string":    mint(hs256, with(honest, "ver", "3"), sha256.New, testSecret),
		"ver fractional":   mint(hs256, with(honest, "ver", 3.5), sha256.New, testSecret),
		"ver negative":     mint(hs256, with(honest, "ver", -1), sha256.New, testSecret),
		"ver null":         mint(hs256, with(honest, "ver", nil), sha256.New, testSecret),
		"tampered claims":  parts[0] + "." + b64url(with(honest, "sub", "admin")) + "." + parts[2],
		"tampered header":  b64url(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "x"}) + "." + parts[1] + "." + parts[2],
		"flipped signature bit": func() string {
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[0] ^= 1
			return parts[0] + "." + parts[1] + "." + b64url(sig)
		}(),
		"non-canonical signature": func() string {
			// Same signature bytes, different spelling: a 32-byte value
			// leaves 2 unused bits in the last character.
			s := parts[2]
			last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[len(s)-1])
			alt := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]
			return parts[0] + "." + parts[1] + "." + s[:len(s)-1] + string(alt)
		}(),
		"padded signature":  validTok + "=",
		"truncated":         validTok[:len(validTok)-1],
		"extra segment":     validTok + ".AAAA",
		"empty":             "",
		"dots":              "..",
		"garbage":           "not a token",
		"bearer prefix":     "Bearer " + validTok,
		"trailing space":    validTok + " ",
		"json":              `{"alg":"none"}`,
		"three junk parts":  "a.b.c",
		"over length limit": parts[0] + "." + b64url(with(honest, "pad", strings.Repeat("x", 5000))) + "." + parts[2],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			checkRefused(t, tk, tok)
		})
	}

	t.Run("wrong-key error names the signature", func(t *testing.T) {
		err := refusal(t, tk, cases["wrong key"])
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Errorf("error %v does not wrap jwt.ErrTokenSignatureInvalid", err)
		}
	})
	t.Run("missing-claim error names the claim", func(t *testing.T) {
		err := refusal(t, tk, cases["no ver"])
		if !strings.Contains(err.Error(), "missing ver") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("other issuer's honest token", func(t *testing.T) {
		other, err := NewTokens(TokenConfig{Secret: testSecret, Issuer: testIss, Audience: "admin-api",
			Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := other.Issue("user-42", 3)
		if err != nil {
			t.Fatal(err)
		}
		checkRefused(t, tk, tok)
	})
}

// foreignShapes are tokens signed with testSecret whose only fault is a
// shape Issue never writes.
func foreignShapes() map[string]string {
	honest := honestClaims()
	signed := func(header, claims map[string]any) string { return mint(header, claims, sha256.New, testSecret) }
	withHeader := func(k string, v any) string { return signed(with(hs256, k, v), honest) }
	claim := func(k string, v any) string { return signed(hs256, with(honest, k, v)) }
	return map[string]string{
		"exp a century ahead":         claim("exp", testNow.AddDate(100, 0, 0).Unix()),
		"exp a day ahead":             claim("exp", testNow.Add(24*time.Hour).Unix()),
		"exp as a string":             claim("exp", strconv.FormatInt(testNow.Add(time.Minute).Unix(), 10)),
		"exp fractional":              claim("exp", float64(testNow.Add(time.Minute).Unix())+0.5),
		"exp with exponent":           signed(hs256, with(honest, "exp", json.RawMessage("1.7000009e9"))),
		"iat as a string":             claim("iat", strconv.FormatInt(testNow.Unix(), 10)),
		"iat fractional":              claim("iat", float64(testNow.Unix())+0.25),
		"crit header":                 withHeader("crit", []string{"exp"}),
		"kid header":                  withHeader("kid", "key-1"),
		"jku header":                  withHeader("jku", "https://evil.example/jwks.json"),
		"typ other":                   withHeader("typ", "at+jwt"),
		"typ lower case":              withHeader("typ", "jwt"),
		"no typ":                      signed(without(hs256, "typ"), honest),
		"nbf claim":                   claim("nbf", testNow.Unix()),
		"role claim":                  claim("role", "admin"),
		"aud as a bare string":        claim("aud", testAud),
		"aud with two entries":        claim("aud", []any{testAud, "other-api"}),
		"iss not a string":            claim("iss", []any{testIss}),
		"sub not a string":            claim("sub", 42),
		"sub overlong":                claim("sub", strings.Repeat("u", 65)),
		"jti not ours":                claim("jti", "my-own-token-id"),
		"ver as exponent":             signed(hs256, with(honest, "ver", json.RawMessage("3e0"))),
		"ver as 3.0":                  signed(hs256, with(honest, "ver", json.RawMessage("3.0"))),
		"duplicate sub":               dupClaim(`"sub":"admin",`),
		"duplicate header alg":        mintRaw(`{"alg":"HS256","alg":"HS256","typ":"JWT"}`, honest),
		"header with trailing data":   mintRaw(`{"alg":"HS256","typ":"JWT"} {}`, honest),
		"header not an object":        mintRaw(`["HS256"]`, honest),
		"header with unicode escapes": mintRaw(`{"alg":"HS256","typ":"JWT","crit":["exp"]}`, honest),
	}
}

// dupClaim mints the honest claims with extra JSON text before them.
func dupClaim(extra string) string {
	claims, err := json.Marshal(honestClaims())
	if err != nil {
		panic(err)
	}
	input := b64url(hs256) + "." + b64url([]byte("{"+extra+string(claims[1:])))
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(input))
	return input + "." + b64url(m.Sum(nil))
}

// mintRaw mints with a header written by hand.
func mintRaw(header string, claims map[string]any) string {
	input := b64url([]byte(header)) + "." + b64url(claims)
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(input))
	return input + "." + b64url(m.Sum(nil))
}

// TestVerifyRefusesForeignShapes: a token signed with our key but of a
// shape Issue never makes is refused, beside the honest token.
func TestVerifyRefusesForeignShapes(t *testing.T) {
	tk, _ := testTokens(t)
	if _, err := tk.Verify(mint(hs256, honestClaims(), sha256.New, testSecret)); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	tok, _, err := tk.Issue("user-42", 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(tok); err != nil {
		t.Fatalf("issued token refused: %v", err)
	}
	for name, tok := range foreignShapes() {
		t.Run(name, func(t *testing.T) {
			checkRefused(t, tk, tok)
		})
	}
	t.Run("lifetime within the TTL and leeway", func(t *testing.T) {
		c := with(honestClaims(), "exp", testNow.Add(15*time.Minute+leeway).Unix())
		if _, err := tk.Verify(mint(hs256, c, sha256.New, testSecret)); err != nil {
			t.Fatalf("refused: %v", err)
		}
		c = with(honestClaims(), "exp", testNow.Add(15*time.Minute+leeway+time.Second).Unix())
		if err := refusal(t, tk, mint(hs256, c, sha256.New, testSecret)); !strings.Contains(err.Error(), string(errLifetime)) {
			t.Fatalf("error = %v, want %q", err, errLifetime)
		}
	})
}

func TestNewTokens(t *testing.T) {
	base := TokenConfig{Secret: testSecret, Issuer: testIss, Audience: testAud}
	t.Run("valid", func(t *testing.T) {
		if _, err := NewTokens(base); err != nil {
			t.Error(err)
		}
	})
	refused := map[string]func(c *TokenConfig){
		"31-byte secret": func(c *TokenConfig) { c.Secret = testSecret[:31] },
		"nil secret":     func(c *TokenConfig) { c.Secret = nil },
		"no issuer":      func(c *TokenConfig) { c.Issuer = "" },
		"no audience":    func(c *TokenConfig) { c.Audience = "" },
		"negative TTL":   func(c *TokenConfig) { c.TTL = -time.Minute },
	}
	for name, edit := range refused {
		t.Run(name, func(t *testing.T) {
			c := base
			edit(&c)
			if tk, err := NewTokens(c); err == nil {
				t.Errorf("NewTokens accepted it: %+v", tk)
			}
		})
	}
	t.Run("default TTL is 15 minutes", func(t *testing.T) {
		tk, err := NewTokens(base)
		if err != nil {
			t.Fatal(err)
		}
		_, c, err := tk.Issue("u", 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := c.ExpiresAt.Sub(c.IssuedAt); d != 15*time.Minute {
			t.Errorf("lifetime = %v", d)
		}
	})
	t.Run("custom TTL", func(t *testing.T) {
		c := base
		c.TTL = time.Hour
		tk, err := NewTokens(c)
		if err != nil {
			t.Fatal(err)
		}
		_, cl, err := tk.Issue("u", 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cl.ExpiresAt.Sub(cl.IssuedAt); d != time.Hour {
			t.Errorf("lifetime = %v", d)
		}
	})
	t.Run("secret is copied", func(t *testing.T) {
		secret := append([]byte(nil), testSecret...)
		c := base
		c.Secret = secret
		tk, err := NewTokens(c)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := tk.Issue("u", 0)
		if err != nil {
			t.Fatal(err)
		}
		clear(secret)
		if _, err := tk.Verify(tok); err != nil {
			t.Errorf("Verify after caller wiped its slice: %v", err)
		}
	})
}

// allowedTokenMessages lists every message Verify may return; FuzzVerify
// checks that nothing else (such as quoted input) ever appears.
func allowedTokenMessages() map[string]bool {
	ok := map[string]bool{}
	add := func(reason string) { ok[ErrInvalidToken.Error()+": "+reason] = true }
	for _, r := range tokenReasons {
		add(r.reason)
	}
	for _, r := range fallbackReasons {
		add(r.reason)
	}
	for _, ce := range []claimError{errMissingSub, errMissingJTI, errMissingVer, errNegativeVer, errMissingIAT, errExpBeforeIAT, errHeaderShape, errClaimsShape, errLifetime} {
		add(string(ce))
	}
	add(reasonTooLong)
	add(reasonOther)
	return ok
}

func FuzzVerify(f *testing.F) {
	// A fresh random key per run: no input, seed or mutation can carry a
	// valid signature, so anything that verifies is a bug.
	now := testNow
	tk, err := NewTokens(TokenConfig{
		Secret:   randomBytes(32),
		Issuer:   testIss,
		Audience: testAud,
		Now:      func() time.Time { return now },
	})
	if err != nil {
		f.Fatal(err)
	}
	allowed := allowedTokenMessages()

	honest := honestClaims()
	f.Add(mint(hs256, honest, sha256.New, testSecret))
	f.Add(mint(map[string]any{"alg": "none", "typ": "JWT"}, honest, nil, nil))
	f.Add(mint(map[string]any{"alg": "HS512"}, honest, sha512.New, testSecret))
	f.Add("")
	f.Add("a.b.c")
	// Well-signed tokens of a shape Issue never makes (see
	// TestVerifyRefusesForeignShapes).
	for _, tok := range foreignShapes() {
		f.Add(tok)
	}

	f.Fuzz(func(t *testing.T, tok string) {
		c, err := tk.Verify(tok)
		if err == nil {
			t.Fatalf("Verify accepted %q: %+v", tok, c)
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("error %v does not wrap ErrInvalidToken", err)
		}
		if !allowed[err.Error()] {
			t.Fatalf("unexpected error message %q", err.Error())
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	tk, _ := testTokens(b)
	tok, _, err := tk.Issue("user-42", 3)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerifyShape signs whatever header and claims JSON it is given with
// the verifier's own key, so only the shape checks stand between the input
// and acceptance; whatever is accepted must be of the shape Issue makes.
func FuzzVerifyShape(f *testing.F) {
	tk, _ := testTokens(f)
	header, err := json.Marshal(hs256)
	if err != nil {
		f.Fatal(err)
	}
	claims, err := json.Marshal(honestClaims())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(header), string(claims))
	f.Add(`{"alg":"HS256","typ":"JWT","crit":["exp"]}`, string(claims))
	f.Add(string(header), `{"aud":["palisade-api"],"exp":"1700000900","iat":1700000000,"iss":"https://blog.example","jti":"AAAAAAAAAAAAAAAAAAAAAA","sub":"user-42","ver":3}`)
	f.Add(string(header), `{"aud":["palisade-api"],"exp":4855673600,"iat":1700000000,"iss":"https://blog.example","jti":"AAAAAAAAAAAAAAAAAAAAAA","sub":"user-42","ver":3}`)
	f.Add(string(header), `{"aud":["palisade-api"],"exp":1700000900,"iat":1700000000,"iss":"https://blog.example","jti":"AAAAAAAAAAAAAAAAAAAAAA","sub":"user-42","sub":"admin","ver":3}`)

	f.Fuzz(func(t *testing.T, header, claims string) {
		input := b64url([]byte(header)) + "." + b64url([]byte(claims))
		m := hmac.New(sha256.New, testSecret)
		m.Write([]byte(input))
		c, err := tk.Verify(input + "." + b64url(m.Sum(nil)))
		if err != nil {
			return
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(header), &h); err != nil || len(h) != 2 || h["alg"] != "HS256" || h["typ"] != "JWT" {
			t.Fatalf("accepted header %s", header)
		}
		var cl map[string]json.RawMessage
		if err := json.Unmarshal([]byte(claims), &cl); err != nil || len(cl) != 7 {
			t.Fatalf("accepted claims %s", claims)
		}
		for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "ver"} {
			if _, ok := cl[k]; !ok {
				t.Fatalf("accepted claims without %s: %s", k, claims)
			}
		}
		if d := c.ExpiresAt.Sub(c.IssuedAt); d <= 0 || d > 15*time.Minute+leeway {
			t.Fatalf("accepted a lifetime of %v: %s", d, claims)
		}
		if c.Version < 0 || c.UserID == "" || c.TokenID == "" {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}

func TestIssuedHeader(t *testing.T) {
	tk, _ := testTokens(t)
	tok, _, err := tk.Issue("user-42", 0)
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := strings.Cut(tok, "."); h != issuedHeader {
		t.Fatalf("Issue wrote the header %q, want %q", h, issuedHeader)
	}
	if got := b64url(hs256); got != issuedHeader {
		t.Fatalf("hand-minted header %q, want %q", got, issuedHeader)
	}
}

// TestReissue: a re-issued token is new (its own ID, the new version) but
// keeps the sign-in's issue and expiry times, and verifies.
func TestReissue(t *testing.T) {
	then := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	old, err := NewTokens(TokenConfig{Secret: []byte(strings.Repeat("k", 32)), Issuer: "https://blog.example", Audience: "palisade-api", Now: func() time.Time { return then }})
	if err != nil {
		t.Fatal(err)
	}
	_, prev, err := old.Issue("user-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := NewTokens(TokenConfig{Secret: []byte(strings.Repeat("k", 32)), Issuer: "https://blog.example", Audience: "palisade-api"})
	if err != nil {
		t.Fatal(err)
	}
	tok, c, err := tokens.Reissue(prev, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tokens.Verify(tok)
	if err != nil {
		t.Fatalf("re-issued token does not verify: %v", err)
	}
	if got != c || got.Version != 4 || got.TokenID == prev.TokenID || !got.IssuedAt.Equal(prev.IssuedAt) || !got.ExpiresAt.Equal(prev.ExpiresAt) {
		t.Fatalf("re-issued claims %+v (returned %+v), from %+v", got, c, prev)
	}
	if _, _, err := tokens.Reissue(Claims{}, 1); err == nil {
		t.Fatal("re-issued from no claims")
	}
}
