// Package totp is the time-based one-time password second factor
// (RFC 6238) with the parameters every authenticator app understands:
// HMAC-SHA-1, 6 digits, 30-second steps, and one step of clock skew
// either way. It makes secrets and their otpauth:// URLs, checks codes
// and refuses a code already used, and draws the URL as a QR code.
//
// It stores nothing: the caller keeps the secret (sealed, see package
// sealed) and the last step accepted, and passes that step back to Verify.
package totp

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The parameters. Apps (Google Authenticator among them) ignore or
// mishandle anything else, so they are not configurable.
const (
	// Period is the length of one step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before and after the current one are
	// accepted, for a phone's clock that is a little off and for the time
	// it takes to type the code.
	Skew = 1
	// SecretSize is the secret's length in bytes: 160 bits, the size
	// RFC 4226 recommends and SHA-1's block-friendly output size.
	SecretSize = 20
)

var (
	// ErrWrongCode is returned by Verify for a code that matches no step in
	// the window, or that is not six digits.
	ErrWrongCode = errors.New("totp: wrong code")
	// ErrReplayed is returned by Verify for a code that matches a step
	// already used: someone who saw the code (over a shoulder, in a
	// phishing proxy) must not be able to use it again. Callers show it
	// to the user as a wrong code, and may log it as the attack it may be.
	ErrReplayed = errors.New("totp: code already used")
)

// Key is a newly made secret, to show the user once at enrolment.
type Key struct {
	// Secret is the base32 secret (no padding), to type into an app that
	// cannot scan, and to seal and store.
	Secret string
	// URL is the otpauth://totp/… URL an app scans.
	URL string
}

// Generate makes a new random secret for account (the username) at the
// site named issuer (see Issuer).
func Generate(issuer, account string) (Key, error) {
	if issuer == "" || account == "" {
		return Key{}, errors.New("totp: issuer and account must not be empty")
	}
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		// Rand is left nil: the library then uses crypto/rand.
	})
	if err != nil {
		return Key{}, fmt.Errorf("totp: generate: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// KeyFor rebuilds the Key of an existing base32 secret, to show a pending
// enrolment again (its QR code is fetched after the page that made it).
func KeyFor(issuer, account, secret string) (Key, error) {
	if issuer == "" || account == "" {
		return Key{}, errors.New("totp: issuer and account must not be empty")
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil || len(raw) == 0 {
		return Key{}, errors.New("totp: secret is not base32")
	}
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		Secret:      raw,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	clear(raw)
	if err != nil {
		return Key{}, fmt.Errorf("totp: key: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// Issuer is the name an authenticator app shows for this blog: its title
// and host, so two blogs with the same title (every new one is called
// "Palisade") stay apart in the app. A colon would split the otpauth
// label in two, so it is replaced.
func Issuer(siteTitle, host string) string {
	title := strings.TrimSpace(siteTitle)
	var s string
	switch {
	case title == "" || strings.EqualFold(title, host):
		s = host
	case host == "":
		s = title
	default:
		s = title + " (" + host + ")"
	}
	return strings.ReplaceAll(s, ":", " ")
}

// Step is the RFC 6238 time step of t: whole periods since the Unix epoch.
func Step(t time.Time) int64 {
	return t.Unix() / int64(Period/time.Second)
}

// Verify checks code against secret at time now, accepting the current
// step and Skew steps on either side, but only steps after lastUsedStep
// (pass 0 when no code was accepted yet). It returns the step the code
// matched: the caller must store it as the new lastUsedStep, atomically
// with the check, so the same code (or an older one) is refused next
// time. Spaces in code are ignored; anything but Digits digits is wrong.
//
// Every step in the window is computed and compared in constant time,
// whatever matches, so the time taken says nothing about the code.
func Verify(secret, code string, now time.Time, lastUsedStep int64) (int64, error) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != Digits || strings.IndexFunc(code, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, ErrWrongCode
	}
	cur := Step(now)
	matched, replayed := int64(0), false
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, fmt.Errorf("totp: bad secret: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		switch {
		case s <= lastUsedStep:
			replayed = true
		case matched == 0:
			// The earliest unused step that matches: a later one would
			// needlessly burn the codes between them.
			matched = s
		}
	}
	switch {
	case matched != 0:
		return matched, nil
	case replayed:
		return 0, ErrReplayed
	default:
		return 0, ErrWrongCode
	}
}
