package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

// maxMFATokenLen bounds an mfaToken as sent: ours are about 300 bytes.
const maxMFATokenLen = 1024

// secondFactorBody is the 401 that asks for the second step of a sign-in.
type secondFactorBody struct {
	Error     string    `json:"error"`
	MFAToken  string    `json:"mfaToken"`
	ExpiresAt time.Time `json:"expiresAt"`
	Methods   []string  `json:"methods"`
}

// writeSecondFactorRequired answers the right password of an account with
// a second factor: not signed in yet, but holding the token that the
// second step takes with a code.
func (d *Deps) writeSecondFactorRequired(w http.ResponseWriter, r *http.Request, u blog.User) {
	token, exp, err := d.Accounts.StartSecondFactor(r.Context(), u)
	if err != nil {
		d.writeError(w, r, err)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
	writeJSON(w, http.StatusUnauthorized, secondFactorBody{
		Error:     blog.ErrorMessage(account.ErrSecondFactorRequired),
		MFAToken:  token,
		ExpiresAt: exp.UTC(),
		Methods:   account.SecondFactorMethods(u),
	})
}

// loginSecondFactor is the body of POST /auth/login/2fa.
type loginSecondFactor struct {
	MFAToken string `json:"mfaToken"`
	Code     string `json:"code"`
}

func (d *Deps) handleLoginSecondFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var in loginSecondFactor
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkText("mfaToken", in.MFAToken, maxMFATokenLen); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkText("code", in.Code, account.MaxCodeLen); err != nil {
			d.writeError(w, r, err)
			return
		}
		u, err := d.Accounts.FinishSecondFactor(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), in.MFAToken, in.Code)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeToken(w, r, u)
	})
}

// checkText refuses a missing or over-long string field, as the OpenAPI
// document's minLength and maxLength say.
func checkText(field, v string, max int) error {
	switch {
	case v == "":
		return fieldError("body", field, "Required")
	case utf8.RuneCountInString(v) > max:
		return fieldError("body", field, "Too long")
	}
	return nil
}

// writeToken signs u in: a new access token at u's current version,
// issued now (so it counts as a recent authentication).
func (d *Deps) writeToken(w http.ResponseWriter, r *http.Request, u blog.User) {
	token, claims, err := d.Tokens.Issue(u.ID, u.TokenVersion)
	if err != nil {
		d.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenBody{Token: token, ExpiresAt: claims.ExpiresAt.UTC()})
}

// tokenBody is a sign-in's answer.
type tokenBody struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// reauthBody is the body of POST /auth/reauth: a password, a code, or a
// passkey's ceremony token and credential.
type reauthBody struct {
	Password      string          `json:"password"`
	Code          string          `json:"code"`
	CeremonyToken string          `json:"ceremonyToken"`
	Credential    json.RawMessage `json:"credential"`
}

func (d *Deps) handleReauth() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		var in reauthBody
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		passkey := in.CeremonyToken != "" || len(in.Credential) > 0
		if n := btoi(in.Password != "") + btoi(in.Code != "") + btoi(passkey); n != 1 {
			d.writeError(w, r, fieldError("body", "password", "Send a password, a code, or a passkey's ceremonyToken and credential"))
			return
		}
		if passkey {
			d.reauthWithPasskey(w, r, who, in)
			return
		}
		if len(in.Code) > account.MaxCodeLen {
			d.writeError(w, r, fieldError("body", "code", "Too long"))
			return
		}
		if utf8.RuneCountInString(in.Password) > blog.PasswordMax {
			// No password is longer: refused without a hash.
			d.writeError(w, r, fieldError("body", "password", "Too long"))
			return
		}
		err := d.Accounts.Reauthenticate(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), who.user, in.Password, in.Code)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeToken(w, r, who.user)
	}
}

// reauthWithPasskey is POST /auth/reauth with a passkey.
func (d *Deps) reauthWithPasskey(w http.ResponseWriter, r *http.Request, who principal, in reauthBody) {
	if err := checkCeremony(in.CeremonyToken, in.Credential); err != nil {
		d.writeError(w, r, err)
		return
	}
	err := d.Accounts.FinishPasskeyReauth(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), who.user, in.CeremonyToken, in.Credential)
	if err != nil {
		d.writeError(w, r, err)
		return
	}
	d.writeToken(w, r, who.user)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// recent lets through only a caller whose token was issued within
// account.ReauthWindow: tokens are issued only at a sign-in or a
// re-authentication, so its iat is when the caller last proved who they
// are. A stolen token, or a device left signed in, can't change factors.
func (d *Deps) recent(next authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		if !account.Recent(who.claims.IssuedAt, time.Now()) {
			d.writeError(w, r, account.ErrReauthRequired)
			return
		}
		next(w, r, who)
	}
}

// totpSetupBody is a new authenticator secret, shown once.
type totpSetupBody struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauthUrl"`
}

func (d *Deps) handleBeginTOTP() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		k, err := d.Accounts.BeginTOTP(r.Context(), who.user)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, totpSetupBody{Secret: k.Secret, OTPAuthURL: k.URL})
	}
}

// codeBody is the body of POST /users/me/2fa/totp/confirm.
type codeBody struct {
	Code string `json:"code"`
}

// recoveryCodesBody carries new recovery codes, shown once, and the token
// that replaces the caller's (the change ended every other).
type recoveryCodesBody struct {
	RecoveryCodes []string  `json:"recoveryCodes"`
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

func (d *Deps) handleConfirmTOTP() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		var in codeBody
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkText("code", in.Code, account.MaxCodeLen); err != nil {
			d.writeError(w, r, err)
			return
		}
		codes, err := d.Accounts.ConfirmTOTP(r.Context(), who.user, in.Code)
		if errors.Is(err, account.ErrBadCode) {
			// The caller is signed in: a mistyped code is a field to
			// correct, not a 401 that a client would take to mean its
			// token is bad.
			d.writeError(w, r, fieldError("body", "code", "Invalid code"))
			return
		}
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeRecoveryCodes(w, r, who, codes)
	}
}

func (d *Deps) handleNewRecoveryCodes() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		codes, err := d.Accounts.NewRecoveryCodes(r.Context(), who.user)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeRecoveryCodes(w, r, who, codes)
	}
}

func (d *Deps) writeRecoveryCodes(w http.ResponseWriter, r *http.Request, who principal, codes []string) {
	token, exp, err := d.reissue(r, who)
	if err != nil {
		d.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes, Token: token, ExpiresAt: exp})
}

func (d *Deps) handleDisableTOTP() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		if err := d.Accounts.DisableTOTP(r.Context(), who.user); err != nil {
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

// reissue signs the caller in again after a change of factors bumped
// their token version (ending every other token, this one included).
func (d *Deps) reissue(r *http.Request, who principal) (string, time.Time, error) {
	u, err := d.Store.UserByID(r.Context(), who.user.ID)
	if err != nil {
		return "", time.Time{}, err
	}
	// The caller's sign-in time and expiry carry over: a change made in a
	// recent sign-in must not make the sign-in recent again, or one change
	// every nine minutes would keep it recent for ever.
	token, claims, err := d.Tokens.Reissue(who.claims, u.TokenVersion)
	if err != nil {
		return "", time.Time{}, err
	}
	return token, claims.ExpiresAt.UTC(), nil
}

// twoFactorStatus is GET /users/me's twoFactor.
type twoFactorStatus struct {
	TOTP              bool `json:"totp"`
	RecoveryCodesLeft int  `json:"recoveryCodesLeft"`
	// Passkeys is how many passkeys the account has.
	Passkeys int `json:"passkeys"`
	// Required: the server's policy wants this account to have a second
	// factor (until it has one, only these routes answer).
	Required bool `json:"required"`
}
