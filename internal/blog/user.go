package blog

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/mtibben/confusables"
)

// Role says what a user may do beyond their own posts.
type Role string

// Roles. An author writes and edits their own posts; an admin runs the
// instance: every post, the accounts, invites and site settings.
const (
	RoleAuthor Role = "author"
	RoleAdmin  Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAuthor || r == RoleAdmin }

// User is an account. The password hash is deliberately not a field: it
// never leaves the store except through UserStore.Credentials.
type User struct {
	ID           string `json:"id"`
	Username     string `json:"username"`
	Role         Role   `json:"role"`
	Disabled     bool   `json:"-"`
	TokenVersion int    `json:"-"` // bumped to revoke every token of the user
	// TOTP is whether the account signs in with an authenticator app
	// code after its password (enabled, not merely being set up).
	TOTP bool `json:"-"`
	// Passkeys is how many passkeys the account has (each can sign in
	// alone, or be the second factor after the password).
	Passkeys  int       `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
}

// HasSecondFactor reports whether signing in as u takes more than the
// password.
func (u User) HasSecondFactor() bool { return u.TOTP || u.Passkeys > 0 }

// CanEdit reports whether u may change or delete p: its author, or an
// admin, unless the account is disabled. A user without an ID (never
// loaded) may edit nothing. It is the one rule for who may edit what: the
// handlers ask it before doing costly work, and the stores ask it again
// (through CheckCanEdit) in the same transaction as the change.
func (u User) CanEdit(p Post) bool {
	return u.ID != "" && !u.Disabled && (u.Role == RoleAdmin || p.Author.ID == u.ID)
}

// CheckCanEdit returns nil if actor may change or delete p (CanEdit),
// ErrPostNotFound if p is a draft actor may not even read (CanRead: its
// existence is not given away), and ErrNotYourPost otherwise.
func CheckCanEdit(actor User, p Post) error {
	if actor.CanEdit(p) {
		return nil
	}
	if err := CheckCanRead(&actor, p); err != nil {
		return err
	}
	return ErrNotYourPost
}

// Validate returns ErrInvalidRole unless r is a known role.
func (r Role) Validate() error {
	if !r.Valid() {
		return ErrInvalidRole
	}
	return nil
}

// PasswordChange says why a password hash is replaced, which decides
// whether the account's issued tokens survive (UserStore.SetPasswordHash).
// Its zero value is neither: a caller must choose.
type PasswordChange int

// Reasons to replace a password hash.
const (
	// PasswordRehashed: the same password, hashed again with stronger
	// parameters at sign-in. Tokens and sessions stay valid.
	PasswordRehashed PasswordChange = iota + 1
	// PasswordChanged: a new password. Every token and session issued
	// before it is revoked.
	PasswordChanged
)

// TokenVersionBump returns how much the change adds to the account's
// token version: 1 for PasswordChanged, 0 for PasswordRehashed, and an
// error for any other value, so a store never guesses.
func (c PasswordChange) TokenVersionBump() (int, error) {
	switch c {
	case PasswordRehashed:
		return 0, nil
	case PasswordChanged:
		return 1, nil
	}
	return 0, fmt.Errorf("unknown password change %d", int(c))
}

// Registration is what a client sends to create an account.
type Registration struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Invite is the token of an invite link (NewInviteToken), or empty.
	Invite string `json:"invite,omitempty"`
}

// Credentials is what a client sends to sign in.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// UsernameKey returns the form of a username used for uniqueness and
// look-ups: usernames are compared case-insensitively.
func UsernameKey(username string) string { return strings.ToLower(username) }

// ErrUsernameTaken is a store's answer when a new account's name is taken
// in any case or is a look-alike of one (same UsernameSkeleton). One answer
// for both: it does not say which existing name the new one resembles.
var ErrUsernameTaken = Errorf(ECONFLICT, "Username is taken, or looks too much like one that is")

// UsernameSkeleton returns the form of a username used to refuse look-alikes:
// two names with the same skeleton may not both be registered, so "aIice"
// (capital i) cannot sit beside "alice", nor "rnallory" beside "mallory" or
// "b0b" beside "bob". It is the confusable skeleton of Unicode TR39 (from
// Unicode's confusables.txt), made case-insensitive like usernames: the
// skeleton is lower-cased and taken again, so that a look-alike of any
// spelling is caught ("Mary" and "rnary" share "rnary"). Lower-casing
// first instead would lose the capital I that looks like an l.
func UsernameSkeleton(username string) string {
	return confusables.Skeleton(strings.ToLower(confusables.Skeleton(username)))
}

// ValidUsername reports whether s is 3–32 characters of [A-Za-z0-9_].
func ValidUsername(s string) bool {
	if len(s) < UsernameMin || len(s) > UsernameMax {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Clean trims the username and validates both fields. isCommon reports
// whether a password is on a list of common passwords (NIST SP 800-63B-4
// asks verifiers to refuse them). The password is not trimmed or
// normalised beyond NFC-free byte comparison: what the user typed is what
// they will type again.
func (r *Registration) Clean(isCommon func(string) bool) error {
	r.Username = strings.TrimSpace(r.Username)
	var v validation
	if !ValidUsername(r.Username) {
		v.add("body", "username", "Username must be 3 to 32 letters, digits or underscores")
	}
	switch n := length(r.Password); {
	case n < PasswordMin:
		v.add("body", "password", "Password too short: use at least 15 characters")
	case n > PasswordMax:
		v.add("body", "password", "Password too long: use at most 128 characters")
	case isCommon != nil && (isCommon(r.Password) || isCommon(core(r.Password))):
		v.add("body", "password", "Password is too common: choose another")
	case distinct(r.Password) < 5:
		v.add("body", "password", "Password is too repetitive: choose another")
	case r.Username != "" && strings.Contains(strings.ToLower(r.Password), UsernameKey(r.Username)):
		v.add("body", "password", "Password must not contain the username")
	}
	return v.err()
}

// core strips the digits, punctuation and spaces people pad a common
// password with to reach a length rule ("password12345678!"), so the padded
// form is refused like the word itself.
func core(pw string) string {
	pad := func(r rune) bool { return !unicode.IsLetter(r) }
	return strings.TrimLeftFunc(strings.TrimRightFunc(pw, pad), pad)
}

// distinct counts the different characters in s: "aaaaaaaaaaaaaaaa" and
// "abababababababab" are long but trivially guessed (NIST SP 800-63B-4
// lists repetitive passwords among those to refuse).
func distinct(s string) int {
	seen := map[rune]struct{}{}
	for _, r := range s {
		seen[r] = struct{}{}
	}
	return len(seen)
}
