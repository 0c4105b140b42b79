package web

// The account page, /account, and what guards the pages that change how
// an account signs in: the policy that sends an account without a second
// factor there first, and the "Confirm it's you" page that asks for a
// recent sign-in.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

// accountData is the account page.
type accountData struct {
	Username string
	Role     blog.Role
	TOTP     bool // an authenticator app is on
	// Required is true when the site's policy requires a second factor
	// of this account and it has none yet: until it has, every other page
	// sends it here.
	Required          bool
	RecoveryCodesLeft int
	Notice            string
	// PasskeysOn: this site can offer passkeys (its address is a domain
	// name). Passkeys lists the account's, oldest first.
	PasskeysOn bool
	Passkeys   []passkeyRow
	// CanAdd: the account has room for another passkey; Recent: its
	// sign-in is recent enough to add one here (else a link confirms it's
	// them first).
	CanAdd, Recent bool
}

func (d *Deps) handleAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		data := accountData{
			Username: u.Username, Role: u.Role, TOTP: u.TOTP,
			Required: d.mustEnrol(u),
			Notice:   d.sessions.PopString(r.Context(), keyNotice),
		}
		if u.TOTP {
			left, err := d.Accounts.RecoveryCodesLeft(r.Context(), *u)
			if err != nil {
				d.storeError(w, r, err)
				return
			}
			data.RecoveryCodesLeft = left
		}
		data.PasskeysOn = d.passkeysOn()
		data.CanAdd = u.Passkeys < blog.MaxPasskeys
		data.Recent = d.recentlyAuthenticated(r)
		if u.Passkeys > 0 {
			pks, err := d.Accounts.Passkeys(r.Context(), *u)
			if err != nil {
				d.storeError(w, r, err)
				return
			}
			data.Passkeys = passkeyRows(pks)
		}
		d.render(w, r, http.StatusOK, "account", data)
	})
}

// mustEnrol reports whether the site's policy requires a second factor
// of u, who has none yet.
func (d *Deps) mustEnrol(u *blog.User) bool {
	return u != nil && d.Accounts != nil && d.Accounts.MustEnrol(*u)
}

// enrolFirst holds a signed-in account that the policy requires to have
// a second factor, and has none, to the pages where it sets one up: any
// other page sends it to /account (a GET, with a 303) or is refused (any
// other method, with a 403 page), until it has one. Signing out stays
// possible. Static files and feeds are not behind d.site, so never here.
func (d *Deps) enrolFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.mustEnrol(currentUser(r)) || enrolmentPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return
		}
		d.WriteError(w, r, http.StatusForbidden, blog.ErrorMessage(account.ErrEnrolRequired)+".")
	})
}

// enrolmentPath reports the pages an account held by enrolFirst may
// still use. Changing the password is not needed to enrol, and waits as
// on the API.
func enrolmentPath(p string) bool {
	if p == "/account/password" {
		return false
	}
	return p == "/account" || strings.HasPrefix(p, "/account/") || p == "/logout"
}

// now is the time as the account service sees it.
func (d *Deps) now() time.Time {
	if d.Accounts != nil && d.Accounts.Now != nil {
		return d.Accounts.Now()
	}
	return time.Now()
}

// recentlyAuthenticated reports whether the visitor proved who they are
// (signed in, or confirmed it) within account.ReauthWindow.
func (d *Deps) recentlyAuthenticated(r *http.Request) bool {
	at := d.sessions.GetInt64(r.Context(), keyAuthAt)
	return at != 0 && account.Recent(time.Unix(at, 0), d.now())
}

// recent guards a page or action that changes how the account signs in:
// someone who finds a browser left signed in must not be able to lock its
// owner out or add their own authenticator. Without a recent sign-in, the
// visitor gets the "Confirm it's you" page instead (a 200 for a page, a
// 403 for a refused action, which did nothing), and once they have
// confirmed, they are sent on to the page they asked for (see
// reauthReturn). It goes inside d.signedIn.
func (d *Deps) recent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.recentlyAuthenticated(r) {
			next.ServeHTTP(w, r)
			return
		}
		status := http.StatusOK
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			status = http.StatusForbidden
		}
		d.render(w, r, status, "reauth", formData{Next: reauthReturn(r)})
	})
}

// reauthReturn is the page to go on to after confirming: the page asked
// for, or for an action (a POST) its own page, which asks again before
// anything changes (a form's fields are not kept). Confirming a new
// authenticator starts its setup again, since the code typed may have run
// out meanwhile.
func reauthReturn(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	return strings.TrimSuffix(r.URL.EscapedPath(), "/confirm")
}

// errBadPassword is the re-authentication page's word for a wrong
// password: the account service's ErrBadCredentials speaks of a username
// too, which this form does not ask for.
var errBadPassword = blog.Errorf(blog.EUNAUTHORIZED, "Invalid password")

// handleReauth checks the password (or a second-factor code) of the
// signed-in visitor, throttled as sign-in is, and sends them on to the
// page they were confirming for.
func (d *Deps) handleReauth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := r.Context(), currentUser(r)
		next := r.PostFormValue("next")
		err := d.Accounts.Reauthenticate(ctx, httpsec.RateKey(d.ClientIP.Addr(r)), *u, r.PostFormValue("password"), r.PostFormValue("code"))
		if errors.Is(err, account.ErrBadCredentials) {
			err = errBadPassword
		}
		if err != nil {
			d.formError(w, r, "reauth", formData{Next: formNext(next)}, err)
			return
		}
		// A new session ID with the new proof, as at sign-in.
		if err := d.sessions.RenewToken(ctx); err != nil {
			d.internalError(w, r, fmt.Errorf("renew session: %w", err))
			return
		}
		d.sessions.Put(ctx, keyAuthAt, d.now().Unix())
		// Checked again here: the field came from the client.
		http.Redirect(w, r, returnPath(next), http.StatusSeeOther)
	})
}

// keepSession carries this session on after a change to the account's
// second factor: the store moved the account's token version on, which
// signs out every other session and token, and this one now holds the
// new version (under a new session ID, as after any change of how the
// account signs in).
func (d *Deps) keepSession(r *http.Request, userID string) error {
	ctx := r.Context()
	u, err := d.Store.UserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("reload user: %w", err)
	}
	if err := d.sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	d.sessions.Put(ctx, keyVersion, u.TokenVersion)
	return nil
}
