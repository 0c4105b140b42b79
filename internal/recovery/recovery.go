// Package recovery makes and checks the single-use recovery codes that let
// a user who lost their authenticator sign in. Only hashes of the codes
// are kept; the codes themselves are shown once.
//
// A code is ten base32 characters, shown in two groups of five
// ("k7m2q-x9fzb"): 50 random bits. It is stored as a SHA-256 hash, salted
// with the user ID, not with a slow password hash, because it is not a
// password: it is drawn at random from 2^50 values rather than chosen by a
// person, so there is no dictionary to try first. Searching that space
// for one user's hash is about 2^50 / 10 hashes (ten codes), days of a
// GPU, per user (the salt stops one search serving every account), and
// the code found is still only a second factor: it is useless without
// the account's password, which is argon2id-hashed. A slow hash would
// add little to that and make each sign-in check ten of them.
package recovery

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

const (
	// Count is how many codes a user gets at once.
	Count = 10
	// codeLen is the characters in a code, without its dash: 10 base32
	// characters are 50 bits.
	codeLen = 10
	// group is where the dash goes when a code is shown.
	group = 5
)

// encoding is lower-case base32 (RFC 4648 alphabet): no 0/O or 1/I/l
// pairs to confuse, since it has no 0, 1 or 8 and input is case-folded.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Generate makes Count new codes for userID: the codes, formatted to show
// the user once, and their hashes to store, in the same order.
func Generate(userID string) (codes, hashes []string) {
	codes = make([]string, Count)
	hashes = make([]string, Count)
	for i := range codes {
		raw := make([]byte, 7) // 56 bits, of which the first 50 are used
		_, _ = rand.Read(raw)  // never fails (crypto/rand panics rather)
		c := encoding.EncodeToString(raw)[:codeLen]
		codes[i] = c[:group] + "-" + c[group:]
		hashes[i] = hash(userID, c)
	}
	return codes, hashes
}

// Normalize turns what a user typed into the code's canonical form:
// lower case, without spaces or dashes. ok is false if what remains is
// not a code (wrong length or a character outside the alphabet).
func Normalize(input string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range input {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return "", false
		}
		if b.Len() == codeLen {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != codeLen {
		return "", false
	}
	return b.String(), true
}

// Match reports which of the stored hashes (of userID's unused codes) the
// typed input matches, or -1. The caller removes that hash, in the same
// transaction as the check, so the code works once. Every hash is
// compared, in constant time, whatever matches.
func Match(userID, input string, hashes []string) int {
	code, ok := Normalize(input)
	if !ok {
		return -1
	}
	h := []byte(hash(userID, code))
	found := -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare(h, []byte(stored)) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

// hash is the hex SHA-256 of a normalised code, salted with a label and
// the user ID (NUL-separated, so no two pairs give the same input).
func hash(userID, code string) string {
	sum := sha256.Sum256([]byte("palisade recovery code\x00" + userID + "\x00" + code))
	return hex.EncodeToString(sum[:])
}
