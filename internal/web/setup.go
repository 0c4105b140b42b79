package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

// setupData is the setup form: the link's token (carried in a hidden
// field, so the form's own address holds no credential), what was typed
// (never the password) and what was wrong with it.
type setupData struct {
	Token    string
	Username string
	Errors   []string
}

// handleSetupForm shows the form that makes the first admin, to whoever
// holds the setup link serve printed. The token stays out of every log:
// the access log records paths, never query strings.
func (d *Deps) handleSetupForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			d.WriteError(w, r, http.StatusBadRequest, "That address is malformed.")
			return
		}
		token := q.Get("token")
		if err := d.Accounts.CheckSetup(r.Context(), token); err != nil {
			d.setupError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "setup", setupData{Token: token})
	})
}

// handleSetup makes the first admin and signs them in; the link is then
// spent.
func (d *Deps) handleSetup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PostFormValue("token")
		reg := blog.Registration{Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}
		u, err := d.Accounts.Claim(r.Context(), token, reg)
		if err != nil {
			form := setupData{Token: token, Username: reg.Username}
			var verr *blog.ValidationError
			switch {
			case errors.As(err, &verr):
				for _, f := range verr.Fields {
					form.Errors = append(form.Errors, f.Msg)
				}
				d.render(w, r, http.StatusBadRequest, "setup", form)
			case blog.ErrorCode(err) == blog.ECONFLICT:
				form.Errors = []string{blog.ErrorMessage(err)}
				d.render(w, r, http.StatusConflict, "setup", form)
			default:
				d.setupError(w, r, err)
			}
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// setupError answers a refused setup: not found once the instance has an
// admin, forbidden for a wrong, used or expired link.
func (d *Deps) setupError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, account.ErrSetupGone):
		d.WriteError(w, r, http.StatusNotFound, "There is no page at this address.")
	case errors.Is(err, account.ErrSetupInvalid):
		d.WriteError(w, r, http.StatusForbidden, "This setup link is invalid, used or expired. The server prints a new one on its console when it restarts while the blog has no admin.")
	default:
		d.storeError(w, r, err)
	}
}
