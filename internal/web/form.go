package web

import (
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"
)

// MaxFormBytes bounds a form body: a 100,000-character post in 4-byte
// characters, URL-encoded, stays well under it.
const MaxFormBytes = 2 << 20

// readForm parses a state-changing request's form, at most MaxFormBytes
// of valid UTF-8. On failure it has answered with a 4xx page and returns
// false.
func (d *Deps) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			d.WriteError(w, r, http.StatusRequestEntityTooLarge, "That form was too large to accept.")
			return false
		}
		d.WriteError(w, r, http.StatusBadRequest, "That form could not be read.")
		return false
	}
	if !validUTF8(r.PostForm) {
		// As for JSON: bad bytes would be stored changed, and a password
		// would hash differently here than through the API.
		d.WriteError(w, r, http.StatusBadRequest, "That form contains text that is not valid UTF-8.")
		return false
	}
	return true
}

func validUTF8(form url.Values) bool {
	for k, vs := range form {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}
