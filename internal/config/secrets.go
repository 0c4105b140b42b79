package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// secretHint ends every complaint about a secret: how to make a good one.
const secretHint = "generate one with `openssl rand -base64 48`"

// MinSecretBits is the least entropy a secret must show, estimated as its
// length times the Shannon entropy of its characters' frequencies. Random
// keys clear it by far: over a million samples each, the lowest estimate
// was 182 bits for `openssl rand -base64 32` (or `head -c 32 /dev/urandom
// | base64`), 295 for `openssl rand -base64 48` and 213 for `openssl rand
// -hex 32`. Repetition (aaaa…, abab…) and short alphabets fall below it.
// The estimate cannot see every pattern (a run such as abcd…xyz012345
// passes), so it is a guard against the obvious, not a proof of strength.
const MinSecretBits = 128

// placeholderWords are what example values are made of. Only words of six
// letters or more: the chance that one appears in 64 random base64
// characters, in any case, is below one in ten million.
var placeholderWords = []string{"changeme", "change-me", "change_me", "example", "placeholder", "secret", "password", "replace"}

// secretWeakness says why s looks like no real key, or "" if it passes:
// a placeholder (angle brackets, spaces, an unexpanded shell substitution
// or an example word) or too little estimated entropy. The answer never
// quotes s.
func secretWeakness(s Secret) string {
	str := string(s)
	if strings.ContainsAny(str, "<>") || strings.Contains(str, "$(") || strings.Contains(str, "${") ||
		strings.IndexFunc(str, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "looks like a placeholder (it has angle brackets, spaces or an unexpanded $(…)), not a key"
	}
	lower := strings.ToLower(str)
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return fmt.Sprintf("looks like a placeholder (it contains %q), not a key", w)
		}
	}
	if bits := estimateBits(str); bits < MinSecretBits {
		return fmt.Sprintf("too predictable (about %d bits of entropy estimated from its characters, at least %d needed)", int(bits), MinSecretBits)
	}
	return ""
}

// estimateBits is len(s) times the Shannon entropy, in bits, of the
// frequencies of s's bytes.
func estimateBits(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n, h := float64(len(s)), 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h * n
}

// EnsureDevSecrets fills in missing secrets in development: each is
// generated once, kept in the data directory with mode 0600 and read back
// on later starts, so a restart keeps users signed in. In production it
// does nothing: Load has already refused missing secrets there.
func (c *Config) EnsureDevSecrets() error {
	if c.Production() {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var err error
	if len(c.JWTSecret) == 0 {
		if c.JWTSecret, c.jwtSecretFrom, err = devSecret(filepath.Join(c.DataDir, "jwt.secret")); err != nil {
			return err
		}
	}
	if len(c.SessionSecret) == 0 {
		if c.SessionSecret, c.sessionSecretFrom, err = devSecret(filepath.Join(c.DataDir, "session.secret")); err != nil {
			return err
		}
	}
	return c.EnsureDevTwoFactorKeys()
}

// EnsureDevTwoFactorKeys is EnsureDevSecrets for PALISADE_2FA_KEYS alone,
// for the command that re-seals with them ("palisade user rekey-2fa").
func (c *Config) EnsureDevTwoFactorKeys() error {
	if c.Production() || len(c.TwoFactorKeys) > 0 {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	k, from, err := devSecret(filepath.Join(c.DataDir, "2fa.key"))
	if err != nil {
		return err
	}
	c.TwoFactorKeys, c.twoFactorKeysFrom = []Secret{k}, from
	return nil
}

// devSecret reads the secret kept at path, or generates and keeps one. from
// says which, for the start-up summary.
func devSecret(path string) (s Secret, from string, err error) {
	s, err = readDevSecret(path)
	if err == nil {
		return s, path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	s, err = newDevSecret(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process wrote it first: use theirs.
		s, err = readDevSecret(path)
		return s, path, err
	}
	return s, "generated in " + path, err
}

// readDevSecret reads a kept development secret; the error wraps
// fs.ErrNotExist when there is none yet.
func readDevSecret(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		info, statErr := os.Stat(path)
		if statErr != nil {
			return nil, fmt.Errorf("stat %s: %w", path, statErr)
		}
		if info.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%s: readable by other users (mode %v): chmod 600 it", path, info.Mode().Perm())
		}
		s := Secret(strings.TrimSpace(string(b)))
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("%s: too short, delete it to generate a new one", path)
		}
		return s, nil
	}
	return nil, fmt.Errorf("read %s: %w", path, err)
}

// newDevSecret generates a secret and keeps it at path, which must not
// exist yet (the error wraps fs.ErrExist if it does).
func newDevSecret(path string) (Secret, error) {
	raw := make([]byte, 48)
	_, _ = rand.Read(raw) // never fails (crypto/rand panics rather)
	s := base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		_ = f.Close() // the write error is the one to report
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return Secret(s), nil
}

// EnsureDataDir creates the data directory, readable by its owner only: it
// holds the database and, in development, the secrets.
func (c *Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("PALISADE_DATA_DIR: %w", err)
	}
	return nil
}
