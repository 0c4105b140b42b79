package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
)

// passwordChangeBody is the body of POST /users/me/password.
type passwordChangeBody struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// handleChangePassword changes the caller's password. The change ends
// every session and token of the account, the caller's included; the
// answer is the caller's token again, at the new version, keeping its
// sign-in time (see reissue).
func (d *Deps) handleChangePassword() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		var in passwordChangeBody
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if utf8.RuneCountInString(in.CurrentPassword) > blog.PasswordMax {
			// No password is longer: refused without a hash or a count.
			d.writeError(w, r, fieldError("body", "currentPassword", "Too long"))
			return
		}
		err := d.Accounts.ChangePassword(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), who.user, in.CurrentPassword, in.NewPassword)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		token, exp, err := d.reissue(r, who)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, tokenBody{Token: token, ExpiresAt: exp})
	}
}
