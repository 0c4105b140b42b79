package web

// Two-factor sign-in with an authenticator app (TOTP): the second step
// of signing in, and setting it up, turning it off and replacing the
// recovery codes from the account page. The rules (codes, throttling,
// single use, the sealed secret) are the account service's; these pages
// only ask and show.

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/totp"
)

// startSecondStep follows a right password for an account with a second
// factor: nobody is signed in yet. The session (under a new ID, and
// signed out of any account it held) keeps the pending sign-in's token
// and where it returns to, and the visitor is sent to the code page.
func (d *Deps) startSecondStep(w http.ResponseWriter, r *http.Request, u blog.User, typed, next string) {
	ctx := r.Context()
	token, _, err := d.Accounts.StartSecondFactor(ctx, u)
	if err != nil {
		d.formError(w, r, "login", formData{Username: typed, Next: formNext(next)}, err)
		return
	}
	if err := d.sessions.RenewToken(ctx); err != nil {
		d.internalError(w, r, err)
		return
	}
	for _, k := range []string{keyUserID, keyVersion, keyCSRF, keyAuthAt} {
		d.sessions.Remove(ctx, k)
	}
	d.sessions.Put(ctx, keyMFA, token)
	d.sessions.Put(ctx, keyMFANext, formNext(next))
	d.sessions.Put(ctx, keyMFAMethods, strings.Join(account.SecondFactorMethods(u), ","))
	http.Redirect(w, r, "/login/2fa", http.StatusSeeOther)
}

func (d *Deps) handleSecondFactorForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.sessions.GetString(r.Context(), keyMFA) == "" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		// Before sign-in, so loadUser has not marked it: this page belongs
		// to one visitor's sign-in and no cache may keep it.
		w.Header().Set("Cache-Control", "no-store")
		d.render(w, r, http.StatusOK, "login-2fa", formData{})
	})
}

func (d *Deps) handleSecondFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		w.Header().Set("Cache-Control", "no-store")
		token := d.sessions.GetString(ctx, keyMFA)
		if token == "" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		u, err := d.Accounts.FinishSecondFactor(ctx, httpsec.RateKey(d.ClientIP.Addr(r)), token, r.PostFormValue("code"))
		if errors.Is(err, account.ErrSignInExpired) {
			// Start again from the password, told why.
			d.sessions.Remove(ctx, keyMFA)
			d.sessions.Remove(ctx, keyMFANext)
			d.sessions.Remove(ctx, keyMFAMethods)
			d.sessions.Put(ctx, keyNotice, blog.ErrorMessage(err)+".")
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			d.formError(w, r, "login-2fa", formData{}, err)
			return
		}
		next := d.sessions.GetString(ctx, keyMFANext)
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, returnPath(next), http.StatusSeeOther)
	})
}

// totpSetupData is the page that sets up an authenticator app.
type totpSetupData struct {
	Secret string // grouped by four characters, for typing
	Errors []string
}

// groupSecret writes a base32 secret in groups of four, as apps that
// take it typed show it.
func groupSecret(s string) string {
	var groups []string
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	return strings.Join(append(groups, s), " ")
}

// handleTOTPSetup starts setting up an authenticator app: a new secret,
// pending until a code from the app confirms it, shown as a QR code and
// as text.
func (d *Deps) handleTOTPSetup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := d.Accounts.BeginTOTP(r.Context(), *currentUser(r))
		if err != nil {
			d.twoFactorError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "totp-setup", totpSetupData{Secret: groupSecret(key.Secret)})
	})
}

// handleTOTPQR draws the pending secret's otpauth URL as a PNG, served by
// the site itself (the CSP allows images from nowhere else, and no one
// else should see the secret). Like the page it is on, it needs a recent
// sign-in; it is an image, so a visitor without one gets a plain 403.
func (d *Deps) handleTOTPQR() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		u := currentUser(r)
		if u == nil || !d.recentlyAuthenticated(r) {
			d.WriteError(w, r, http.StatusForbidden, "Sign in and confirm it's you to see this code.")
			return
		}
		key, err := d.Accounts.PendingTOTP(r.Context(), *u)
		if errors.Is(err, blog.ErrNoPendingTOTP) {
			d.WriteError(w, r, http.StatusNotFound, "No authenticator app is being set up.")
			return
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		img, err := totp.QRCodePNG(key.URL)
		if err != nil {
			d.internalError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(img) // fails only if the client went away
	})
}

// recoveryCodesData is the page that shows new recovery codes, once.
type recoveryCodesData struct {
	Codes []string
	New   bool // just set up, rather than replaced
}

// handleTOTPConfirm turns the pending authenticator on with a code from
// it, and shows the recovery codes that come with it.
func (d *Deps) handleTOTPConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := r.Context(), currentUser(r)
		codes, err := d.Accounts.ConfirmTOTP(ctx, *u, r.PostFormValue("code"))
		if errors.Is(err, account.ErrBadCode) {
			// The same secret again, for another try.
			key, kerr := d.Accounts.PendingTOTP(ctx, *u)
			if kerr != nil {
				d.twoFactorError(w, r, kerr)
				return
			}
			d.render(w, r, http.StatusUnauthorized, "totp-setup", totpSetupData{Secret: groupSecret(key.Secret), Errors: []string{blog.ErrorMessage(err) + ": type the code your app shows now."}})
			return
		}
		if err != nil {
			d.twoFactorError(w, r, err)
			return
		}
		if err := d.keepSession(r, u.ID); err != nil {
			d.storeError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "recovery-codes", recoveryCodesData{Codes: codes, New: true})
	})
}

// handleTOTPDisableForm asks before turning the authenticator off.
func (d *Deps) handleTOTPDisableForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		if !u.TOTP {
			d.twoFactorError(w, r, blog.ErrTOTPOff)
			return
		}
		// Would the policy then hold the account until it sets one up again?
		off := *u
		off.TOTP = false
		d.render(w, r, http.StatusOK, "totp-disable", struct{ StillRequired bool }{d.mustEnrol(&off)})
	})
}

func (d *Deps) handleTOTPDisable() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		if err := d.Accounts.DisableTOTP(r.Context(), *u); err != nil {
			d.twoFactorError(w, r, err)
			return
		}
		if err := d.keepSession(r, u.ID); err != nil {
			d.storeError(w, r, err)
			return
		}
		d.sessions.Put(r.Context(), keyNotice, "Two-factor sign-in is off: your password alone now signs you in. Your other sessions were signed out.")
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})
}

// handleRecoveryForm asks before replacing the recovery codes.
func (d *Deps) handleRecoveryForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !currentUser(r).TOTP {
			d.twoFactorError(w, r, blog.ErrTOTPOff)
			return
		}
		d.render(w, r, http.StatusOK, "recovery-new", nil)
	})
}

func (d *Deps) handleRecovery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		codes, err := d.Accounts.NewRecoveryCodes(r.Context(), *u)
		if err != nil {
			d.twoFactorError(w, r, err)
			return
		}
		if err := d.keepSession(r, u.ID); err != nil {
			d.storeError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "recovery-codes", recoveryCodesData{Codes: codes})
	})
}

// twoFactorError answers a refused change to the second factor: a 409
// page in the account service's words when the account's state does not
// allow it (already on, off, nothing pending, no keys on the server),
// else the usual error page.
func (d *Deps) twoFactorError(w http.ResponseWriter, r *http.Request, err error) {
	if blog.ErrorCode(err) != blog.ECONFLICT {
		d.storeError(w, r, err)
		return
	}
	if errors.Is(err, account.ErrNoTwoFactorKeys) {
		d.Log.WarnContext(r.Context(), "two-factor enrolment refused: PALISADE_2FA_KEYS is not set", slog.String("requestId", httpsec.RequestIDFrom(r.Context())))
	}
	d.WriteError(w, r, http.StatusConflict, blog.ErrorMessage(err)+". Your account page shows where it stands.")
}
