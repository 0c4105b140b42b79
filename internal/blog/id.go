package blog

import (
	"crypto/rand"
	"encoding/base32"
	"time"
)

// idEncoding is lower-case base32 without padding: URL-safe, case-stable and
// free of look-alike punctuation.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idLen is the length of an encoded 128-bit ID.
const idLen = 26

// NewID returns a random 128-bit identifier. IDs are opaque and cannot be
// guessed or enumerated, unlike sequential integers.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an ID made by NewID, so a
// malformed ID is refused before any query runs.
func ValidID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	// The last character carries only 3 meaningful bits of the 128; a
	// string whose padding bits are not zero was not made by NewID.
	b, err := idEncoding.DecodeString(s)
	return err == nil && len(b) == 16 && idEncoding.EncodeToString(b) == s
}

// Now returns the current time as stores keep it: UTC, truncated to
// microseconds (the precision every supported database stores).
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
