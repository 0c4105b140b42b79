// Package sealed encrypts small values kept in the database, such as TOTP
// secrets, under keys from the configuration, so that a copy of the
// database alone does not yield them.
//
// A sealed value is text: "s1.KEYID.DATA", where KEYID names the key that
// sealed it (8 hex digits of a hash of the key, which says nothing useful
// about the key) and DATA is the base64url of a 24-byte nonce followed by
// the XChaCha20-Poly1305 ciphertext. The associated data binds each value
// to a purpose and a user ID: a value copied into another account's row,
// or into another column, does not open.
//
// Several keys may be configured, newest first: the first seals, any
// opens, and Reseal moves a value onto the first. So a key is rotated by
// putting the new one in front, re-sealing every stored value, then
// removing the old one.
package sealed

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Purposes name what a sealed value is for; each is part of the associated
// data, so a value sealed for one purpose does not open for another.
const (
	// PurposeTOTP is a TOTP shared secret.
	PurposeTOTP = "totp-secret"
)

// version starts every sealed value, so the format can change later
// without guessing.
const version = "s1"

// MinKeyLen is the shortest configured key accepted, in bytes. Keys are
// stretched with HKDF, so any length at or above this works.
const MinKeyLen = 32

var (
	// ErrNoKey is returned by Seal when no key is configured: a feature
	// that needs sealing must refuse to start (enrolment, say) rather than
	// store a value in the clear.
	ErrNoKey = errors.New("sealed: no key configured")
	// ErrUnknownKey is returned by Open when the value names a key that is
	// not configured (removed too early, or a different deployment's).
	ErrUnknownKey = errors.New("sealed: sealed under a key that is not configured")
	// ErrInvalid is returned by Open when the value is malformed, was
	// changed, or belongs to another user or purpose. Which of these it
	// was is not said: the AEAD cannot tell them apart, on purpose.
	ErrInvalid = errors.New("sealed: value is malformed, altered or not this user's")
)

type key struct {
	id   string
	aead interface {
		Seal(dst, nonce, plaintext, additionalData []byte) []byte
		Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
		NonceSize() int
	}
}

// Keyring seals with its first key and opens with any. Its zero value (and
// a nil *Keyring) has no key: Seal returns ErrNoKey and Open
// ErrUnknownKey. It is safe for concurrent use.
type Keyring struct {
	keys []key
}

// New makes a keyring from configured keys, newest first. Each must be at
// least MinKeyLen bytes; two keys with the same ID (the same key twice)
// are refused, since that is a configuration mistake.
func New(secrets ...[]byte) (*Keyring, error) {
	k := &Keyring{}
	seen := map[string]bool{}
	for i, s := range secrets {
		if len(s) < MinKeyLen {
			return nil, fmt.Errorf("sealed: key %d is %d bytes, at least %d needed", i+1, len(s), MinKeyLen)
		}
		id := keyID(s)
		if seen[id] {
			return nil, fmt.Errorf("sealed: key %d repeats an earlier key", i+1)
		}
		seen[id] = true
		// The configured key is text of any length: HKDF turns it into
		// exactly the 32 bytes the AEAD takes, and keeps this use of it
		// apart from any other.
		raw, err := hkdf.Key(sha256.New, s, nil, "palisade sealed v1", chacha20poly1305.KeySize)
		if err != nil {
			return nil, fmt.Errorf("sealed: derive key: %w", err)
		}
		aead, err := chacha20poly1305.NewX(raw)
		if err != nil {
			return nil, fmt.Errorf("sealed: %w", err)
		}
		k.keys = append(k.keys, key{id: id, aead: aead})
	}
	return k, nil
}

// keyID is a short, stable name for a key: 32 bits of a hash of it, with a
// label so it matches no other hash of the same key. It is a name, not a
// check: the AEAD is what authenticates.
func keyID(secret []byte) string {
	h := sha256.New()
	h.Write([]byte("palisade sealed key id\x00"))
	h.Write(secret)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// HasKey reports whether Seal can work.
func (k *Keyring) HasKey() bool { return k != nil && len(k.keys) > 0 }

// CurrentKeyID is the ID of the key Seal uses, or "" if there is none.
func (k *Keyring) CurrentKeyID() string {
	if !k.HasKey() {
		return ""
	}
	return k.keys[0].id
}

// associatedData binds a value to its purpose and user. Purpose comes
// first and neither may hold a NUL, so no two (purpose, user) pairs give
// the same bytes.
func associatedData(purpose, userID string) ([]byte, error) {
	if purpose == "" || userID == "" || strings.ContainsRune(purpose, 0) || strings.ContainsRune(userID, 0) {
		return nil, errors.New("sealed: purpose and user ID must be non-empty and free of NUL")
	}
	return []byte(version + "\x00" + purpose + "\x00" + userID), nil
}

// Seal encrypts plaintext for userID and purpose under the current key.
func (k *Keyring) Seal(plaintext []byte, purpose, userID string) (string, error) {
	if !k.HasKey() {
		return "", ErrNoKey
	}
	ad, err := associatedData(purpose, userID)
	if err != nil {
		return "", err
	}
	cur := k.keys[0]
	// 24-byte random nonces (XChaCha20): collisions are negligible however
	// many values are sealed, so no counter has to be kept.
	nonce := make([]byte, cur.aead.NonceSize(), cur.aead.NonceSize()+len(plaintext)+chacha20poly1305.Overhead)
	_, _ = rand.Read(nonce) // never fails (crypto/rand panics rather)
	out := cur.aead.Seal(nonce, nonce, plaintext, ad)
	return version + "." + cur.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed for userID and purpose by any configured
// key. It returns ErrUnknownKey if the value's key is not configured and
// ErrInvalid for anything else wrong.
func (k *Keyring) Open(sealed, purpose, userID string) ([]byte, error) {
	id, data, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	ad, err := associatedData(purpose, userID)
	if err != nil {
		return nil, err
	}
	var kk *key
	if k != nil {
		for i := range k.keys {
			if k.keys[i].id == id {
				kk = &k.keys[i]
				break
			}
		}
	}
	if kk == nil {
		return nil, ErrUnknownKey
	}
	n := kk.aead.NonceSize()
	if len(data) < n+chacha20poly1305.Overhead {
		return nil, ErrInvalid
	}
	plain, err := kk.aead.Open(nil, data[:n], data[n:], ad)
	if err != nil {
		return nil, ErrInvalid
	}
	return plain, nil
}

// KeyIDOf is the ID of the key that sealed a value, without opening it:
// what a rotation counts to know whether any value still needs an old key.
func KeyIDOf(sealed string) (string, error) {
	id, _, err := parse(sealed)
	return id, err
}

// Reseal opens a value and, if it was sealed under an older key, seals it
// again under the current one. changed says whether the value differs, so
// a caller stores only what changed. Calling it wherever a sealed value is
// read and used (a TOTP check at sign-in) moves values onto a new key as
// their owners come back, and KeyIDOf tells when none needs an old one.
func (k *Keyring) Reseal(sealed, purpose, userID string) (out string, changed bool, err error) {
	id, _, err := parse(sealed)
	if err != nil {
		return "", false, err
	}
	if id == k.CurrentKeyID() {
		// Still open it: a value that does not open must not be reported
		// as up to date.
		if _, err := k.Open(sealed, purpose, userID); err != nil {
			return "", false, err
		}
		return sealed, false, nil
	}
	plain, err := k.Open(sealed, purpose, userID)
	if err != nil {
		return "", false, err
	}
	out, err = k.Seal(plain, purpose, userID)
	clear(plain)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

func parse(sealed string) (id string, data []byte, err error) {
	v, rest, ok := strings.Cut(sealed, ".")
	if !ok || v != version {
		return "", nil, ErrInvalid
	}
	id, enc, ok := strings.Cut(rest, ".")
	if !ok || len(id) != 8 {
		return "", nil, ErrInvalid
	}
	data, err = base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", nil, ErrInvalid
	}
	return id, data, nil
}
