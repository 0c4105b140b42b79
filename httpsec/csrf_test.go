package httpsec

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRFToken(t *testing.T) {
	secret := NewCSRFSecret()
	t.Run("Honest", func(t *testing.T) {
		if !CheckCSRFToken(secret, MaskCSRFToken(secret)) {
			t.Fatal("a token made from the secret was refused")
		}
	})
	t.Run("MaskedDifferentlyEachTime", func(t *testing.T) {
		seen := map[string]bool{}
		for range 100 {
			tok := MaskCSRFToken(secret)
			if seen[tok] {
				t.Fatal("a token repeated")
			}
			seen[tok] = true
		}
	})
	t.Run("SecretNotInToken", func(t *testing.T) {
		tok := MaskCSRFToken(secret)
		if strings.Contains(tok, string(secret)) {
			t.Fatal("the raw secret appears in the token")
		}
	})
	other := NewCSRFSecret()
	bad := map[string]string{
		"Empty":            "",
		"OtherSession":     MaskCSRFToken(other),
		"Garbage":          "not-a-token",
		"Truncated":        MaskCSRFToken(secret)[:40],
		"Extended":         MaskCSRFToken(secret) + "AA",
		"BadBase64":        strings.Repeat("!", 86),
		"UnmaskedSecret":   base64.RawURLEncoding.EncodeToString(secret),
		"AllZeroPad":       base64.RawURLEncoding.EncodeToString(append(make([]byte, CSRFSecretLen), secret...)),
		"FlippedLastByte":  flipLast(MaskCSRFToken(secret)),
		"PaddedBase64Form": MaskCSRFToken(secret) + "==",
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			if name == "AllZeroPad" {
				// A zero pad is a valid (if unlucky) mask: it must pass, since
				// the check is of the secret, not of the pad's randomness.
				if !CheckCSRFToken(secret, tok) {
					t.Fatal("zero-pad token refused")
				}
				return
			}
			if CheckCSRFToken(secret, tok) {
				t.Fatalf("token %q accepted", tok)
			}
		})
	}
	t.Run("EmptySecretNeverMatches", func(t *testing.T) {
		if CheckCSRFToken(nil, MaskCSRFToken(nil)) {
			t.Fatal("empty secret matched")
		}
	})
}

func TestCSRFTokenFrom(t *testing.T) {
	form := url.Values{CSRFField: {"from-form"}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := CSRFTokenFrom(r); got != "from-form" {
		t.Fatalf("form token = %q", got)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(CSRFHeader, "from-header")
	if got := CSRFTokenFrom(r); got != "from-header" {
		t.Fatalf("header token = %q", got)
	}
	r = httptest.NewRequest(http.MethodPost, "/?_csrf=from-query", nil)
	if got := CSRFTokenFrom(r); got != "" {
		t.Fatalf("token taken from the query string: %q", got)
	}
}

func flipLast(tok string) string {
	b := []byte(tok)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

func BenchmarkCSRF(b *testing.B) {
	secret := NewCSRFSecret()
	token := MaskCSRFToken(secret)
	b.Run("Mask", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			MaskCSRFToken(secret)
		}
	})
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !CheckCSRFToken(secret, token) {
				b.Fatal("refused")
			}
		}
	})
}
