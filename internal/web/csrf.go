package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
)

// CSRF secrets live in two places:
//
//   - A signed-in visitor's secret is in their server-side session, made
//     at sign-in.
//   - A visitor who is not signed in (on the sign-in and registration
//     forms) gets theirs in a cookie of its own, signed with
//     PALISADE_SESSION_SECRET, instead of an anonymous server-side session.
//     An anonymous session would need the session cookie, and since that
//     cookie is SameSite=Strict a browser arriving from another site
//     doesn't send it: the sign-in page would then hand out a fresh
//     anonymous session whose cookie replaced, and so signed out, the
//     visitor's real one. It also keeps the session store free of entries
//     for every passing bot.
//
// Either way the page carries a masked token and the check compares it
// with the secret in constant time.
const (
	csrfCookieName       = "palisade_csrf"
	secureCSRFCookieName = "__Host-palisade_csrf"
	csrfCookieMaxAge     = 24 * 60 * 60 // seconds: as long as a session may last
	csrfMACLen           = 16
)

func (d *Deps) csrfCookieName() string {
	if d.Production {
		return secureCSRFCookieName
	}
	return csrfCookieName
}

// csrfSecret returns the secret the visitor's forms are checked against,
// creating the anonymous one (and its cookie, on w) if needed.
func (d *Deps) csrfSecret(w http.ResponseWriter, r *http.Request) []byte {
	if secret := d.sessions.GetBytes(r.Context(), keyCSRF); len(secret) > 0 {
		return secret
	}
	if secret := d.anonymousCSRFSecret(r); secret != nil {
		return secret
	}
	secret := httpsec.NewCSRFSecret()
	value := base64.RawURLEncoding.EncodeToString(append(secret, d.csrfMAC(secret)...))
	http.SetCookie(w, &http.Cookie{
		Name:     d.csrfCookieName(),
		Value:    value,
		Path:     "/",
		MaxAge:   csrfCookieMaxAge,
		HttpOnly: true,
		Secure:   d.Production,
		SameSite: http.SameSiteStrictMode,
	})
	// The same request may render more than one form.
	r.AddCookie(&http.Cookie{Name: d.csrfCookieName(), Value: value})
	return secret
}

// expectedCSRFSecret is the secret a state-changing request is checked
// against: the session's for a signed-in visitor (never the cookie's, so
// a cookie planted by someone else can't stand in), else the cookie's.
func (d *Deps) expectedCSRFSecret(r *http.Request) []byte {
	if secret := d.sessions.GetBytes(r.Context(), keyCSRF); len(secret) > 0 {
		return secret
	}
	if d.sessions.GetString(r.Context(), keyUserID) != "" {
		return nil
	}
	return d.anonymousCSRFSecret(r)
}

// anonymousCSRFSecret reads and verifies the CSRF cookie; nil if it is
// missing or was not made by this server.
func (d *Deps) anonymousCSRFSecret(r *http.Request) []byte {
	c, err := r.Cookie(d.csrfCookieName())
	if err != nil {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != httpsec.CSRFSecretLen+csrfMACLen {
		return nil
	}
	secret, mac := raw[:httpsec.CSRFSecretLen], raw[httpsec.CSRFSecretLen:]
	if !hmac.Equal(mac, d.csrfMAC(secret)) {
		return nil
	}
	return secret
}

func (d *Deps) csrfMAC(secret []byte) []byte {
	m := hmac.New(sha256.New, d.CSRFKey)
	m.Write([]byte("palisade csrf cookie v1\x00"))
	m.Write(secret)
	return m.Sum(nil)[:csrfMACLen]
}
