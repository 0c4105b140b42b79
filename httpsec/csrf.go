package httpsec

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// CSRFSecretLen is the size of a session's CSRF secret: 256 bits.
const CSRFSecretLen = 32

// CSRFField and CSRFHeader are where a request carries its token: the
// hidden form field of the tutorial's csurf, or a header for scripts.
const (
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// NewCSRFSecret returns a fresh random secret to keep in a server-side
// session. The secret itself never leaves the server; pages carry masked
// tokens made from it.
func NewCSRFSecret() []byte {
	b := make([]byte, CSRFSecretLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// MaskCSRFToken returns a token for secret that is different on every
// call: a random one-time pad followed by the secret XORed with it. A
// page's token therefore never repeats, so an attacker who can measure the
// compressed size of responses (BREACH) learns nothing byte by byte.
func MaskCSRFToken(secret []byte) string {
	buf := make([]byte, 2*len(secret))
	pad, masked := buf[:len(secret)], buf[len(secret):]
	_, _ = rand.Read(pad)
	for i := range secret {
		masked[i] = secret[i] ^ pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// CheckCSRFToken reports whether token was made by MaskCSRFToken from
// secret, comparing in constant time. An empty secret never matches.
func CheckCSRFToken(secret []byte, token string) bool {
	if len(secret) == 0 || base64.RawURLEncoding.DecodedLen(len(token)) != 2*len(secret) {
		return false
	}
	buf, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(buf) != 2*len(secret) {
		return false
	}
	pad, masked := buf[:len(secret)], buf[len(secret):]
	for i := range masked {
		masked[i] ^= pad[i]
	}
	return subtle.ConstantTimeCompare(masked, secret) == 1
}

// CSRFTokenFrom returns the token a request carries: the X-CSRF-Token
// header, else the _csrf form field. The caller must have bounded the body
// (http.MaxBytesReader) before a form is parsed.
func CSRFTokenFrom(r *http.Request) string {
	if t := r.Header.Get(CSRFHeader); t != "" {
		return t
	}
	return r.PostFormValue(CSRFField)
}
