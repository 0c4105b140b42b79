package web

// Passkeys on the website. A passkey ceremony needs the browser's WebAuthn
// API, so these are the site's only actions that need a script:
// static/passkey.js, loaded by the pages that offer one (see passkeyPage)
// and allowed by their CSP alone. The script talks to the JSON endpoints
// below with the page's CSRF token in X-CSRF-Token; they sit behind
// d.site like every form, so a request from another origin, or without
// the token, is refused before any work. The ceremony token stays in the
// server-side session: the page never sees it. The rules (what verifies,
// throttling, single use) are the account service's.
//
// Listing, renaming and removing passkeys are plain forms on /account
// and work without scripts.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/httperr"
)

// Session keys of passkey ceremonies: one begun ceremony per purpose, so
// a token begun for one can't be finished as another here either.
const keyCeremony = "pk:" // + purpose

// Ceremony purposes, as passkey.js names its buttons.
const (
	purposeRegister     = "register"
	purposeSignIn       = "signin"
	purposeSecondFactor = "second-factor"
	purposeReauth       = "reauth"
)

// maxPasskeyBody bounds what the script sends: a credential as the
// account service accepts it, and a name and a path.
const maxPasskeyBody = account.MaxCredentialBytes + 4<<10

// passkeysOn reports whether this site can offer passkeys: browsers allow
// them only when the base URL is a domain name.
func (d *Deps) passkeysOn() bool {
	return d.Accounts != nil && d.Accounts.WebAuthn != nil
}

// passkeyPage reports whether page, as r sees it, offers a passkey
// action, and so loads passkey.js under PasskeyPageCSP. Every other page
// keeps PageCSP, which allows no script at all.
func (d *Deps) passkeyPage(r *http.Request, page string) bool {
	if !d.passkeysOn() {
		return false
	}
	u := currentUser(r)
	switch page {
	case "login":
		return u == nil
	case "login-2fa":
		return d.secondStepOffers(r, "passkey")
	case "account":
		return u != nil && u.Passkeys < blog.MaxPasskeys && d.recentlyAuthenticated(r)
	case "reauth":
		return u != nil && u.Passkeys > 0
	}
	return false
}

// secondStepOffers reports whether the pending sign-in's account can
// finish it with method ("totp" or "passkey"). A session from before the
// methods were kept offers the code, as it did then.
func (d *Deps) secondStepOffers(r *http.Request, method string) bool {
	methods := d.sessions.GetString(r.Context(), keyMFAMethods)
	if methods == "" {
		return method == "totp"
	}
	for m := range strings.SplitSeq(methods, ",") {
		if m == method {
			return true
		}
	}
	return false
}

// passkeyRequest is what passkey.js sends: the credential (the JSON of
// PublicKeyCredential.toJSON()) to finish a ceremony, the new passkey's
// name, and the page to return to (checked again here).
type passkeyRequest struct {
	Name       string          `json:"name"`
	Next       string          `json:"next"`
	Credential json.RawMessage `json:"credential"`
}

// passkeyAnswer is every answer to the script: the options for
// navigator.credentials (begin), where to go next (finish, or a refusal
// that needs another page first), or an error to show.
type passkeyAnswer struct {
	PublicKey json.RawMessage `json:"publicKey,omitempty"`
	Redirect  string          `json:"redirect,omitempty"`
	Error     string          `json:"error,omitempty"`
}

func writePasskeyJSON(w http.ResponseWriter, status int, a passkeyAnswer) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a) // fails only if the client went away
}

// passkeyError answers a refused passkey request in the account
// service's safe words; an internal error is logged and shown only by its
// request ID.
func (d *Deps) passkeyError(w http.ResponseWriter, r *http.Request, err error) {
	a := httperr.From(err)
	msg := a.Message
	switch {
	case a.Status == http.StatusInternalServerError:
		d.Log.ErrorContext(r.Context(), "internal error", "requestId", httpsec.RequestIDFrom(r.Context()), "path", r.URL.Path, "error", err)
		msg = "Something went wrong on our side (request " + httpsec.RequestIDFrom(r.Context()) + ")."
	case a.Status == http.StatusTooManyRequests:
		msg = fmt.Sprintf("Too many sign-in attempts. Please try again in %d minute(s).", (a.RetryAfter+59)/60)
	case blog.ErrorCode(err) == blog.EUNAVAILABLE:
		d.Log.WarnContext(r.Context(), "dependency unavailable", "requestId", httpsec.RequestIDFrom(r.Context()), "error", err)
	}
	a.SetRetryAfter(w.Header())
	writePasskeyJSON(w, a.Status, passkeyAnswer{Error: strings.TrimSuffix(msg, ".") + "."})
}

// readPasskeyRequest decodes the script's body, bounded. On failure it
// has answered and returns false.
func readPasskeyRequest(w http.ResponseWriter, r *http.Request, in *passkeyRequest) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxPasskeyBody)
	if err := json.NewDecoder(r.Body).Decode(in); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writePasskeyJSON(w, http.StatusRequestEntityTooLarge, passkeyAnswer{Error: "That passkey answer was too large to accept."})
			return false
		}
		writePasskeyJSON(w, http.StatusBadRequest, passkeyAnswer{Error: "That passkey answer could not be read."})
		return false
	}
	return true
}

// beginCeremony keeps c's token in the session under purpose and gives
// the page only the options.
func (d *Deps) beginCeremony(w http.ResponseWriter, r *http.Request, purpose string, c account.Ceremony) {
	var opts struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(c.Options, &opts); err != nil {
		d.passkeyError(w, r, fmt.Errorf("passkey options: %w", err))
		return
	}
	d.sessions.Put(r.Context(), keyCeremony+purpose, c.Token)
	writePasskeyJSON(w, http.StatusOK, passkeyAnswer{PublicKey: opts.PublicKey})
}

// takeCeremony returns the token of the ceremony begun for purpose and
// forgets it: a ceremony finishes once, well or not.
func (d *Deps) takeCeremony(r *http.Request, purpose string) string {
	return d.sessions.PopString(r.Context(), keyCeremony+purpose)
}

// passkeyGuard is d.signedIn for the script: a visitor who is not signed
// in (their session ended meanwhile), or, when recent is set, whose
// sign-in is no longer recent, gets a JSON refusal that sends them to
// the page that sorts it out.
func (d *Deps) passkeyGuard(recent bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.passkeysOn() {
			d.passkeyError(w, r, account.ErrNoPasskeys)
			return
		}
		if currentUser(r) == nil {
			writePasskeyJSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Your session has ended: sign in again.", Redirect: "/login?next=%2Faccount"})
			return
		}
		if recent && !d.recentlyAuthenticated(r) {
			writePasskeyJSON(w, http.StatusForbidden, passkeyAnswer{Error: "Confirm it’s you first.", Redirect: "/account/passkeys/add"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// passkeysAvailable refuses the signed-out endpoints when passkeys are
// off.
func (d *Deps) passkeysAvailable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.passkeysOn() {
			d.passkeyError(w, r, account.ErrNoPasskeys)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Sign in with a passkey alone: it is both factors, so no second step
// follows.

func (d *Deps) handlePasskeySignInBegin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.Accounts.BeginPasskeySignIn(r.Context())
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		d.beginCeremony(w, r, purposeSignIn, c)
	})
}

func (d *Deps) handlePasskeySignInFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in passkeyRequest
		if !readPasskeyRequest(w, r, &in) {
			return
		}
		token := d.takeCeremony(r, purposeSignIn)
		if token == "" {
			d.passkeyError(w, r, account.ErrCeremonyExpired)
			return
		}
		u, err := d.Accounts.FinishPasskeySignIn(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), token, in.Credential)
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.passkeyError(w, r, err)
			return
		}
		writePasskeyJSON(w, http.StatusOK, passkeyAnswer{Redirect: returnPath(in.Next)})
	})
}

// The second step of a sign-in, with one of the account's passkeys.

// secondStepExpired ends a pending sign-in whose token ran out and sends
// the visitor back to the password, told why (as the code form does).
func (d *Deps) secondStepExpired(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	d.sessions.Remove(ctx, keyMFA)
	d.sessions.Remove(ctx, keyMFANext)
	d.sessions.Remove(ctx, keyMFAMethods)
	d.sessions.Put(ctx, keyNotice, blog.ErrorMessage(err)+".")
	writePasskeyJSON(w, http.StatusUnauthorized, passkeyAnswer{Error: blog.ErrorMessage(err) + ".", Redirect: "/login"})
}

func (d *Deps) handleSecondFactorPasskeyBegin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mfa := d.sessions.GetString(r.Context(), keyMFA)
		if mfa == "" {
			writePasskeyJSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Start by signing in with your password.", Redirect: "/login"})
			return
		}
		c, err := d.Accounts.BeginPasskeySecondFactor(r.Context(), mfa)
		if errors.Is(err, account.ErrSignInExpired) {
			d.secondStepExpired(w, r, err)
			return
		}
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		d.beginCeremony(w, r, purposeSecondFactor, c)
	})
}

func (d *Deps) handleSecondFactorPasskeyFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var in passkeyRequest
		if !readPasskeyRequest(w, r, &in) {
			return
		}
		mfa := d.sessions.GetString(ctx, keyMFA)
		if mfa == "" {
			writePasskeyJSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Start by signing in with your password.", Redirect: "/login"})
			return
		}
		token := d.takeCeremony(r, purposeSecondFactor)
		if token == "" {
			d.passkeyError(w, r, account.ErrCeremonyExpired)
			return
		}
		u, err := d.Accounts.FinishPasskeySecondFactor(ctx, httpsec.RateKey(d.ClientIP.Addr(r)), mfa, token, in.Credential)
		if errors.Is(err, account.ErrSignInExpired) {
			d.secondStepExpired(w, r, err)
			return
		}
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		next := d.sessions.GetString(ctx, keyMFANext)
		if err := d.startSession(r, u); err != nil {
			d.passkeyError(w, r, err)
			return
		}
		writePasskeyJSON(w, http.StatusOK, passkeyAnswer{Redirect: returnPath(next)})
	})
}

// Adding a passkey to the signed-in account, after a recent sign-in.

func (d *Deps) handlePasskeyRegisterBegin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in passkeyRequest
		if !readPasskeyRequest(w, r, &in) {
			return
		}
		// The name is checked before the browser asks the person for
		// anything, so a bad one costs no fingerprint.
		if !blog.ValidPasskeyName(strings.TrimSpace(in.Name)) {
			d.passkeyError(w, r, blog.ErrInvalidPasskeyName)
			return
		}
		c, err := d.Accounts.BeginPasskeyRegistration(r.Context(), *currentUser(r))
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		d.beginCeremony(w, r, purposeRegister, c)
	})
}

func (d *Deps) handlePasskeyRegisterFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := r.Context(), currentUser(r)
		var in passkeyRequest
		if !readPasskeyRequest(w, r, &in) {
			return
		}
		token := d.takeCeremony(r, purposeRegister)
		if token == "" {
			d.passkeyError(w, r, account.ErrCeremonyExpired)
			return
		}
		p, err := d.Accounts.FinishPasskeyRegistration(ctx, *u, token, in.Name, in.Credential)
		if errors.Is(err, blog.ErrInvalidPasskeyName) {
			// The ceremony is still good: the script may send a better name.
			d.sessions.Put(ctx, keyCeremony+purposeRegister, token)
		}
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		if err := d.keepSession(r, u.ID); err != nil {
			d.passkeyError(w, r, err)
			return
		}
		d.sessions.Put(ctx, keyNotice, "Passkey “"+p.Name+"” added: it signs you in on its own, and can be the second step after your password. Your other sessions were signed out.")
		// Not "/account#passkeys": from /account that would only scroll, and
		// the page must load again to list the new passkey.
		writePasskeyJSON(w, http.StatusOK, passkeyAnswer{Redirect: "/account"})
	})
}

// Confirming it's you with a passkey, on the re-authentication page.

func (d *Deps) handlePasskeyReauthBegin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.Accounts.BeginPasskeyReauth(r.Context(), *currentUser(r))
		if err != nil {
			d.passkeyError(w, r, err)
			return
		}
		d.beginCeremony(w, r, purposeReauth, c)
	})
}

func (d *Deps) handlePasskeyReauthFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := r.Context(), currentUser(r)
		var in passkeyRequest
		if !readPasskeyRequest(w, r, &in) {
			return
		}
		token := d.takeCeremony(r, purposeReauth)
		if token == "" {
			d.passkeyError(w, r, account.ErrCeremonyExpired)
			return
		}
		if err := d.Accounts.FinishPasskeyReauth(ctx, httpsec.RateKey(d.ClientIP.Addr(r)), *u, token, in.Credential); err != nil {
			d.passkeyError(w, r, err)
			return
		}
		// A new session ID with the new proof, as the password form does.
		if err := d.sessions.RenewToken(ctx); err != nil {
			d.passkeyError(w, r, fmt.Errorf("renew session: %w", err))
			return
		}
		d.sessions.Put(ctx, keyAuthAt, d.now().Unix())
		writePasskeyJSON(w, http.StatusOK, passkeyAnswer{Redirect: returnPath(in.Next)})
	})
}

// The account page's passkey list: plain forms.

// passkeyRow is one passkey on the account page.
type passkeyRow struct {
	ID, Name  string
	CreatedAt time.Time
	LastUsed  time.Time // zero until first used
	Synced    bool      // kept in a password manager or cloud account, on several devices
}

func passkeyRows(pks []blog.Passkey) []passkeyRow {
	rows := make([]passkeyRow, 0, len(pks))
	for _, p := range pks {
		rows = append(rows, passkeyRow{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsed: p.LastUsedAt, Synced: p.BackupState})
	}
	return rows
}

// findPasskey returns u's passkey named by the path's {id}.
func (d *Deps) findPasskey(r *http.Request, u blog.User) (blog.Passkey, error) {
	pks, err := d.Accounts.Passkeys(r.Context(), u)
	if err != nil {
		return blog.Passkey{}, err
	}
	for _, p := range pks {
		if p.ID == r.PathValue("id") {
			return p, nil
		}
	}
	return blog.Passkey{}, blog.ErrPasskeyNotFound
}

// passkeyNotFound answers a passkey that is not the visitor's (or no
// longer exists).
func (d *Deps) passkeyNotFound(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, blog.ErrPasskeyNotFound) {
		d.WriteError(w, r, http.StatusNotFound, "You have no such passkey. It may have been removed already.")
		return
	}
	d.storeError(w, r, err)
}

// handlePasskeyAdd is where confirming it's you, to add a passkey, comes
// back to: the account page's form, now usable.
func (d *Deps) handlePasskeyAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/account#add-passkey", http.StatusSeeOther)
	})
}

func (d *Deps) handlePasskeyRename() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		name := strings.TrimSpace(r.PostFormValue("name"))
		err := d.Accounts.RenamePasskey(r.Context(), *u, r.PathValue("id"), name)
		if errors.Is(err, blog.ErrInvalidPasskeyName) {
			d.WriteError(w, r, http.StatusBadRequest, blog.ErrorMessage(err)+". Go back and try another name.")
			return
		}
		if err != nil {
			d.passkeyNotFound(w, r, err)
			return
		}
		d.sessions.Put(r.Context(), keyNotice, "Passkey renamed “"+name+"”.")
		http.Redirect(w, r, "/account#passkeys", http.StatusSeeOther)
	})
}

// passkeyRemoveData is the page that asks before removing a passkey.
type passkeyRemoveData struct {
	ID, Name string
	// StillRequired: the policy requires a second factor of the account,
	// and this is its last one.
	StillRequired bool
}

func (d *Deps) handlePasskeyRemoveForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		p, err := d.findPasskey(r, *u)
		if err != nil {
			d.passkeyNotFound(w, r, err)
			return
		}
		after := *u
		after.Passkeys--
		d.render(w, r, http.StatusOK, "passkey-remove", passkeyRemoveData{ID: p.ID, Name: p.Name, StillRequired: d.mustEnrol(&after)})
	})
}

func (d *Deps) handlePasskeyRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		p, err := d.findPasskey(r, *u)
		if err == nil {
			err = d.Accounts.RemovePasskey(r.Context(), *u, p.ID)
		}
		if err != nil {
			d.passkeyNotFound(w, r, err)
			return
		}
		if err := d.keepSession(r, u.ID); err != nil {
			d.storeError(w, r, err)
			return
		}
		d.sessions.Put(r.Context(), keyNotice, "Passkey “"+p.Name+"” removed: it no longer signs you in. Your other sessions were signed out.")
		http.Redirect(w, r, "/account#passkeys", http.StatusSeeOther)
	})
}
