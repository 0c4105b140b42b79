package web

// The pages that make an account, sign in and sign out.

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

func (d *Deps) handleRegisterForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery) // strict, unlike r.URL.Query()
		if err != nil {
			d.WriteError(w, r, http.StatusBadRequest, "That address is malformed.")
			return
		}
		// An invite link (/register?invite=…) carries its token into the
		// form as a hidden field. Without one, the policy may refuse at
		// once rather than after the form is filled in.
		invite := q.Get("invite")
		if err := d.Accounts.CheckRegistration(invite); err != nil {
			d.registrationRefused(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "register", formData{Invite: invite})
	})
}

func (d *Deps) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg := blog.Registration{Username: r.PostFormValue("username"), Password: r.PostFormValue("password"), Invite: r.PostFormValue("invite")}
		u, err := d.Accounts.Register(r.Context(), reg)
		if blog.ErrorCode(err) == blog.EFORBIDDEN {
			d.registrationRefused(w, r, err)
			return
		}
		if err != nil {
			d.formError(w, r, "register", formData{Username: reg.Username, Invite: reg.Invite}, err)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// registrationRefused answers a registration the policy does not allow (or
// a bad invite) with a 403 page that says why, the account service's own
// words. Nothing was stored.
func (d *Deps) registrationRefused(w http.ResponseWriter, r *http.Request, err error) {
	if blog.ErrorCode(err) != blog.EFORBIDDEN {
		d.storeError(w, r, err)
		return
	}
	d.WriteError(w, r, http.StatusForbidden, blog.ErrorMessage(err)+".")
}

func (d *Deps) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := r.URL.Query().Get("next") // a malformed one just falls back to "/"
		if currentUser(r) != nil {
			http.Redirect(w, r, returnPath(next), http.StatusSeeOther)
			return
		}
		form := formData{Next: formNext(next)}
		// A second step that expired comes back here with a word on why.
		if notice := d.sessions.PopString(r.Context(), keyNotice); notice != "" {
			form.Errors = []string{notice}
		}
		d.render(w, r, http.StatusOK, "login", form)
	})
}

func (d *Deps) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr := blog.Credentials{Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}
		next := r.PostFormValue("next")
		u, err := d.Accounts.SignIn(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), cr)
		if err != nil {
			d.formError(w, r, "login", formData{Username: cr.Username, Next: formNext(next)}, err)
			return
		}
		if u.HasSecondFactor() {
			d.startSecondStep(w, r, u, cr.Username, next)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		// The field came from the client: checked again, never trusted
		// because the form page checked it.
		http.Redirect(w, r, returnPath(next), http.StatusSeeOther)
	})
}

// startSession signs u in: a new session ID (so an ID planted before
// sign-in is worthless: no fixation), the user and their token version,
// a new CSRF secret, and the time they proved who they are. A pending
// second step, if any, is over.
func (d *Deps) startSession(r *http.Request, u blog.User) error {
	ctx := r.Context()
	if err := d.sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	d.sessions.Remove(ctx, keyMFA)
	d.sessions.Remove(ctx, keyMFANext)
	d.sessions.Remove(ctx, keyMFAMethods)
	d.sessions.Put(ctx, keyUserID, u.ID)
	d.sessions.Put(ctx, keyVersion, u.TokenVersion)
	d.sessions.Put(ctx, keyCSRF, httpsec.NewCSRFSecret())
	d.sessions.Put(ctx, keyAuthAt, d.now().Unix())
	return nil
}

func (d *Deps) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Destroy deletes the session on the server and expires the
		// cookie: the old session ID is worthless even if it was copied.
		if err := d.sessions.Destroy(r.Context()); err != nil {
			d.internalError(w, r, err)
			return
		}
		logging.Audit(r.Context(), d.Log, "logout") // the user's own doing: INFO
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}
