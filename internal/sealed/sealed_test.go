package sealed

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var (
	keyA = []byte("Yk3v0m2Zr9fJc1qWb8xT5nL7pA4sD6gH0eU2iO9yR3tK")
	keyB = []byte("Qw8eR5tY2uI9oP4aS7dF1gH6jK3lZ0xC5vB8nM2qW7eR")
)

func mustNew(t *testing.T, keys ...[]byte) *Keyring {
	t.Helper()
	k, err := New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := mustNew(t, keyA)
	s, err := k.Seal([]byte("JBSWY3DPEHPK3PXP"), PurposeTOTP, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "JBSWY3DPEHPK3PXP") || !strings.HasPrefix(s, "s1."+k.CurrentKeyID()+".") {
		t.Fatalf("sealed value %q: want s1.<key id>.<ciphertext>, no plaintext", s)
	}
	got, err := k.Open(s, PurposeTOTP, "user-1")
	if err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := k.Seal([]byte("JBSWY3DPEHPK3PXP"), PurposeTOTP, "user-1")
	if again == s {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
}

func TestOpenRefuses(t *testing.T) {
	k := mustNew(t, keyA)
	s, err := k.Seal([]byte("JBSWY3DPEHPK3PXP"), PurposeTOTP, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		parts := strings.SplitN(s, ".", 3)
		b, _ := base64.RawURLEncoding.DecodeString(parts[2])
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 1
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(b)
	}
	other := mustNew(t, keyB)
	// A different key that claims keyA's ID: only the AEAD can catch it.
	impostor := mustNew(t, keyB)
	impostor.keys[0].id = k.CurrentKeyID()
	for _, tc := range []struct {
		name, sealed, purpose, user string
		keys                        *Keyring
		want                        error
	}{
		{"TamperedNonce", flip(s, 0), PurposeTOTP, "user-1", k, ErrInvalid},
		{"TamperedCiphertext", flip(s, 24), PurposeTOTP, "user-1", k, ErrInvalid},
		{"TamperedTag", flip(s, -1), PurposeTOTP, "user-1", k, ErrInvalid},
		{"Truncated", s[:20], PurposeTOTP, "user-1", k, ErrInvalid},
		{"WrongUser", s, PurposeTOTP, "user-2", k, ErrInvalid},
		{"UserIDPrefix", s, PurposeTOTP, "user-", k, ErrInvalid},
		{"WrongPurpose", s, "other-purpose", "user-1", k, ErrInvalid},
		{"WrongKey", s, PurposeTOTP, "user-1", impostor, ErrInvalid},
		{"KeyNotConfigured", s, PurposeTOTP, "user-1", other, ErrUnknownKey},
		{"NoKeys", s, PurposeTOTP, "user-1", nil, ErrUnknownKey},
		{"NotSealed", "JBSWY3DPEHPK3PXP", PurposeTOTP, "user-1", k, ErrInvalid},
		{"OtherVersion", "s2" + s[2:], PurposeTOTP, "user-1", k, ErrInvalid},
		{"BadBase64", s + "!", PurposeTOTP, "user-1", k, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.keys.Open(tc.sealed, tc.purpose, tc.user)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("Open = %q, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestSealWithoutKey(t *testing.T) {
	for _, k := range []*Keyring{nil, {}, mustNew(t)} {
		if _, err := k.Seal([]byte("x"), PurposeTOTP, "u"); !errors.Is(err, ErrNoKey) {
			t.Errorf("Seal without a key: %v, want ErrNoKey", err)
		}
		if k.HasKey() || k.CurrentKeyID() != "" {
			t.Error("an empty keyring says it has a key")
		}
	}
}

func TestSealRefusesAmbiguousAssociatedData(t *testing.T) {
	k := mustNew(t, keyA)
	for _, tc := range [][2]string{{"", "u"}, {PurposeTOTP, ""}, {"a\x00b", "u"}, {PurposeTOTP, "u\x00v"}} {
		if _, err := k.Seal([]byte("x"), tc[0], tc[1]); err == nil {
			t.Errorf("Seal(purpose %q, user %q) succeeded", tc[0], tc[1])
		}
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
	if _, err := New(keyA, keyB, keyA); err == nil {
		t.Error("a repeated key was accepted")
	}
}

func TestRotation(t *testing.T) {
	old := mustNew(t, keyA)
	s, err := old.Seal([]byte("JBSWY3DPEHPK3PXP"), PurposeTOTP, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	// Step 1: the new key in front; values sealed under the old one still open.
	both := mustNew(t, keyB, keyA)
	if got, err := both.Open(s, PurposeTOTP, "user-1"); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open under the old key after adding a new one = %q, %v", got, err)
	}
	// Step 2: re-seal under the new key.
	r, changed, err := both.Reseal(s, PurposeTOTP, "user-1")
	if err != nil || !changed {
		t.Fatalf("Reseal = %v, %v; want changed", changed, err)
	}
	if id, _ := KeyIDOf(r); id != both.CurrentKeyID() || id == old.CurrentKeyID() {
		t.Fatalf("re-sealed under %q, want the new key %q", id, both.CurrentKeyID())
	}
	same, changed, err := both.Reseal(r, PurposeTOTP, "user-1")
	if err != nil || changed || same != r {
		t.Fatalf("Reseal of a current value = %v, %v; want unchanged", changed, err)
	}
	// Re-sealing keeps the binding to the user.
	if _, _, err := both.Reseal(s, PurposeTOTP, "user-2"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Reseal for the wrong user: %v, want ErrInvalid", err)
	}
	if _, _, err := both.Reseal(r, PurposeTOTP, "user-2"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Reseal of a current value for the wrong user: %v, want ErrInvalid", err)
	}
	// Step 3: the old key removed; the re-sealed value opens, the old one does not.
	newOnly := mustNew(t, keyB)
	if got, err := newOnly.Open(r, PurposeTOTP, "user-1"); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open after removing the old key = %q, %v", got, err)
	}
	if _, err := newOnly.Open(s, PurposeTOTP, "user-1"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a value never re-sealed: %v, want ErrUnknownKey", err)
	}
}
