package totp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/hotp"
)

// rfcSecret is the SHA-1 seed of RFC 6238, Appendix B: the ASCII bytes
// "12345678901234567890", here in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// TestRFC6238Vectors checks the SHA-1 rows of RFC 6238, Appendix B. The
// RFC prints 8-digit codes; a 6-digit code is the same value modulo 10^6,
// so it is the last six digits of each.
func TestRFC6238Vectors(t *testing.T) {
	for _, v := range []struct {
		unix int64
		code string // the RFC's 8 digits
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		now := time.Unix(v.unix, 0).UTC()
		t.Run(now.Format(time.RFC3339), func(t *testing.T) {
			step, err := Verify(rfcSecret, v.code[2:], now, 0)
			if err != nil {
				t.Fatalf("Verify(%s) = %v", v.code[2:], err)
			}
			if step != Step(now) {
				t.Errorf("matched step %d, want the current one %d", step, Step(now))
			}
		})
	}
}

// codeAt computes the code of step s, as an authenticator app would.
func codeAt(t *testing.T, secret string, s int64) string {
	t.Helper()
	c, err := hotp.GenerateCode(secret, uint64(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerify(t *testing.T) {
	k, err := Generate("Blog (blog.example.com)", "alice")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 10, 0, time.UTC)
	cur := Step(now)
	for _, tc := range []struct {
		name     string
		code     string
		lastUsed int64
		want     int64
		err      error
	}{
		{"Current", codeAt(t, k.Secret, cur), 0, cur, nil},
		{"WithSpaces", codeAt(t, k.Secret, cur)[:3] + " " + codeAt(t, k.Secret, cur)[3:], 0, cur, nil},
		{"PreviousStep", codeAt(t, k.Secret, cur-1), 0, cur - 1, nil},
		{"NextStep", codeAt(t, k.Secret, cur+1), 0, cur + 1, nil},
		{"TwoStepsLate", codeAt(t, k.Secret, cur-2), 0, 0, ErrWrongCode},
		{"TwoStepsEarly", codeAt(t, k.Secret, cur+2), 0, 0, ErrWrongCode},
		{"Replay", codeAt(t, k.Secret, cur), cur, 0, ErrReplayed},
		{"OlderThanLastUsed", codeAt(t, k.Secret, cur-1), cur, 0, ErrReplayed},
		{"NextAfterLastUsed", codeAt(t, k.Secret, cur+1), cur, cur + 1, nil},
		{"Empty", "", 0, 0, ErrWrongCode},
		{"TooShort", codeAt(t, k.Secret, cur)[:5], 0, 0, ErrWrongCode},
		{"TooLong", codeAt(t, k.Secret, cur) + "0", 0, 0, ErrWrongCode},
		{"NotDigits", "12a456", 0, 0, ErrWrongCode},
		{"FullWidthDigits", "１２３４５６", 0, 0, ErrWrongCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, err := Verify(k.Secret, tc.code, now, tc.lastUsed)
			if !errors.Is(err, tc.err) || step != tc.want {
				t.Fatalf("Verify = %d, %v; want %d, %v", step, err, tc.want, tc.err)
			}
		})
	}
	t.Run("Wrong", func(t *testing.T) {
		// A code of none of the window's steps. Pick one that differs
		// from all three, since any fixed code matches by chance once in
		// a million.
		window := map[string]bool{}
		for s := cur - 1; s <= cur+1; s++ {
			window[codeAt(t, k.Secret, s)] = true
		}
		wrong := "000000"
		for i := 1; window[wrong]; i++ {
			wrong = fmt.Sprintf("%06d", i)
		}
		if _, err := Verify(k.Secret, wrong, now, 0); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("Verify(wrong code) = %v", err)
		}
	})
	t.Run("ReplayWithinWindow", func(t *testing.T) {
		// The code accepted at the start of its step is refused for the
		// rest of the window (up to a step later), which is what the
		// caller gets by storing the returned step.
		code := codeAt(t, k.Secret, cur)
		last, err := Verify(k.Secret, code, now, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, later := range []time.Duration{0, 15 * time.Second, Period} {
			if _, err := Verify(k.Secret, code, now.Add(later), last); !errors.Is(err, ErrReplayed) {
				t.Errorf("same code %v later: %v, want ErrReplayed", later, err)
			}
		}
	})
	t.Run("BadSecret", func(t *testing.T) {
		if _, err := Verify("not base32!", "123456", now, 0); err == nil || errors.Is(err, ErrWrongCode) {
			t.Fatalf("Verify with a broken secret = %v, want an error that is not a wrong code", err)
		}
	})
}

func TestGenerate(t *testing.T) {
	k, err := Generate("My Blog (blog.example.com)", "alice")
	if err != nil {
		t.Fatal(err)
	}
	// 160 bits in base32 without padding: 32 characters.
	if len(k.Secret) != 32 || strings.Trim(k.Secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("secret %q: want 32 base32 characters (160 bits)", k.Secret)
	}
	u, err := url.Parse(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || strings.TrimPrefix(u.Path, "/") != "My Blog (blog.example.com):alice" ||
		q.Get("secret") != k.Secret || q.Get("issuer") != "My Blog (blog.example.com)" ||
		q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("URL %s: want otpauth://totp/ISSUER:alice with SHA1, 6 digits, 30 s, the secret and the issuer", k.URL)
	}
	other, err := Generate("My Blog (blog.example.com)", "alice")
	if err != nil || other.Secret == k.Secret {
		t.Errorf("two secrets are equal (%v)", err)
	}
	if _, err := Generate("", "alice"); err == nil {
		t.Error("an empty issuer was accepted")
	}
}

func TestIssuer(t *testing.T) {
	for _, tc := range []struct{ title, host, want string }{
		{"My Blog", "blog.example.com", "My Blog (blog.example.com)"},
		{"  ", "blog.example.com", "blog.example.com"},
		{"blog.example.com", "blog.example.com", "blog.example.com"},
		{"Notes: a blog", "blog.example.com:8443", "Notes  a blog (blog.example.com 8443)"},
	} {
		if got := Issuer(tc.title, tc.host); got != tc.want {
			t.Errorf("Issuer(%q, %q) = %q, want %q", tc.title, tc.host, got, tc.want)
		}
	}
}

// TestKeyForRebuildsTheSameKey: a pending enrolment's QR code, drawn from
// the stored secret, is the URL first shown.
func TestKeyForRebuildsTheSameKey(t *testing.T) {
	k, err := Generate("My Blog (blog.example.com)", "alice")
	if err != nil {
		t.Fatal(err)
	}
	again, err := KeyFor("My Blog (blog.example.com)", "alice", k.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if again != k {
		t.Fatalf("KeyFor = %+v, want %+v", again, k)
	}
	if _, err := KeyFor("My Blog", "alice", "not base32!"); err == nil {
		t.Fatal("KeyFor took a secret that is not base32")
	}
}
