package web

// Changing the password from the account page. The rules (the current
// password checked and throttled as at sign-in, the new one held to
// registration's) are the account service's; the page asks and shows.

import (
	"fmt"
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
)

// passwordChanged is the account page's notice after a change.
const passwordChanged = "Password changed. Your other sessions were signed out."

func (d *Deps) handlePasswordForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.render(w, r, http.StatusOK, "password", formData{})
	})
}

// handlePasswordChange changes the password. The change moves the
// account's token version on, which ends every session and token of the
// account; this session carries on with the new version (keepSession).
// A refused form comes back with its messages only: the passwords typed
// are never written into the page.
func (d *Deps) handlePasswordChange() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := r.Context(), currentUser(r)
		err := d.Accounts.ChangePassword(ctx, httpsec.RateKey(d.ClientIP.Addr(r)), *u, r.PostFormValue("current_password"), r.PostFormValue("new_password"))
		if err != nil {
			d.formError(w, r, "password", formData{}, err)
			return
		}
		if err := d.keepSession(r, u.ID); err != nil {
			d.internalError(w, r, fmt.Errorf("password changed: %w", err))
			return
		}
		d.sessions.Put(ctx, keyNotice, passwordChanged)
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})
}
