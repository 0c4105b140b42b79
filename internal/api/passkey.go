package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

// maxPasskeyIDLen bounds a passkey's ID in a path: credential IDs are at
// most 1023 bytes, 1364 characters in base64url.
const maxPasskeyIDLen = 1364

// errNoPasskey: a passkey ceremony for an account that has none.
var errNoPasskey = blog.Errorf(blog.ECONFLICT, "This account has no passkey")

// ceremonyBody is a begun passkey ceremony: the token that finishes it
// and the options for navigator.credentials.create or get.
type ceremonyBody struct {
	CeremonyToken string          `json:"ceremonyToken"`
	PublicKey     json.RawMessage `json:"publicKey"`
}

// writeCeremony answers a begun ceremony.
func (d *Deps) writeCeremony(w http.ResponseWriter, r *http.Request, c account.Ceremony) {
	var opts struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(c.Options, &opts); err != nil {
		d.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ceremonyBody{CeremonyToken: c.Token, PublicKey: opts.PublicKey})
}

// passkeyBody is the public view of a passkey: nothing secret, and not
// its key.
type passkeyBody struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"createdAt"`
	LastUsedAt     *time.Time `json:"lastUsedAt"`
	BackupEligible bool       `json:"backupEligible"`
	BackupState    bool       `json:"backupState"`
}

func passkeyView(p blog.Passkey) passkeyBody {
	b := passkeyBody{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt.UTC().Truncate(time.Second),
		BackupEligible: p.BackupEligible, BackupState: p.BackupState}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt.UTC().Truncate(time.Second)
		b.LastUsedAt = &t
	}
	return b
}

// checkCeremony refuses a missing or malformed ceremony token and a
// credential that is not a JSON object or is too large, as the OpenAPI
// document's bounds say.
func checkCeremony(token string, credential json.RawMessage) error {
	if err := checkText("ceremonyToken", token, account.CeremonyTokenLen); err != nil {
		return err
	}
	if len(token) != account.CeremonyTokenLen {
		return fieldError("body", "ceremonyToken", "Malformed")
	}
	switch {
	case len(credential) == 0:
		return fieldError("body", "credential", "Required")
	case len(credential) > account.MaxCredentialBytes:
		return fieldError("body", "credential", "Too long")
	case !bytes.HasPrefix(bytes.TrimLeft(credential, " \t\r\n"), []byte("{")):
		return fieldError("body", "credential", "Must be an object")
	}
	return nil
}

// passkeyRegistration is the body of POST /users/me/passkeys/finish.
type passkeyRegistration struct {
	CeremonyToken string          `json:"ceremonyToken"`
	Name          string          `json:"name"`
	Credential    json.RawMessage `json:"credential"`
}

// passkeyAdded answers a new passkey, with the token that replaces the
// caller's (adding a factor ended every other).
type passkeyAdded struct {
	Passkey   passkeyBody `json:"passkey"`
	Token     string      `json:"token"`
	ExpiresAt time.Time   `json:"expiresAt"`
}

func (d *Deps) handleBeginPasskeyRegistration() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		c, err := d.Accounts.BeginPasskeyRegistration(r.Context(), who.user)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeCeremony(w, r, c)
	}
}

func (d *Deps) handleFinishPasskeyRegistration() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		var in passkeyRegistration
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkCeremony(in.CeremonyToken, in.Credential); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkText("name", in.Name, blog.PasskeyNameMax+32); err != nil {
			d.writeError(w, r, err)
			return
		}
		p, err := d.Accounts.FinishPasskeyRegistration(r.Context(), who.user, in.CeremonyToken, in.Name, in.Credential)
		switch {
		// The caller is signed in: these are fields to correct, not a 401
		// that a client would take to mean its token is bad.
		case errors.Is(err, blog.ErrInvalidPasskeyName):
			err = fieldError("body", "name", blog.ErrorMessage(err))
		case errors.Is(err, account.ErrCeremonyExpired):
			err = fieldError("body", "ceremonyToken", blog.ErrorMessage(err))
		case errors.Is(err, account.ErrPasskeyRefused):
			err = fieldError("body", "credential", blog.ErrorMessage(err))
		}
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		token, exp, err := d.reissue(r, who)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, passkeyAdded{Passkey: passkeyView(p), Token: token, ExpiresAt: exp})
	}
}

func (d *Deps) handleListPasskeys() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		pks, err := d.Accounts.Passkeys(r.Context(), who.user)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		out := make([]passkeyBody, 0, len(pks))
		for _, p := range pks {
			out = append(out, passkeyView(p))
		}
		writeJSON(w, http.StatusOK, map[string][]passkeyBody{"passkeys": out})
	}
}

// passkeyRename is the body of PATCH /users/me/passkeys/{id}.
type passkeyRename struct {
	Name string `json:"name"`
}

// validPasskeyID reports whether id has the shape of a credential ID in
// base64url, so that anything else is a 404 before any query.
func validPasskeyID(id string) bool {
	if id == "" || len(id) > maxPasskeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (d *Deps) handleRenamePasskey() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		id := r.PathValue("id")
		if !validPasskeyID(id) {
			d.writeError(w, r, blog.ErrPasskeyNotFound)
			return
		}
		var in passkeyRename
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkText("name", in.Name, blog.PasskeyNameMax+32); err != nil {
			d.writeError(w, r, err)
			return
		}
		err := d.Accounts.RenamePasskey(r.Context(), who.user, id, in.Name)
		if errors.Is(err, blog.ErrInvalidPasskeyName) {
			err = fieldError("body", "name", blog.ErrorMessage(err))
		}
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		pks, err := d.Accounts.Passkeys(r.Context(), who.user)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		for _, p := range pks {
			if p.ID == id {
				writeJSON(w, http.StatusOK, map[string]passkeyBody{"passkey": passkeyView(p)})
				return
			}
		}
		// Removed in the meantime.
		d.writeError(w, r, blog.ErrPasskeyNotFound)
	}
}

func (d *Deps) handleRemovePasskey() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		id := r.PathValue("id")
		if !validPasskeyID(id) {
			d.writeError(w, r, blog.ErrPasskeyNotFound)
			return
		}
		if err := d.Accounts.RemovePasskey(r.Context(), who.user, id); err != nil {
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

// passkeyBegin is the body of POST /auth/passkey/begin: empty to sign in
// with a passkey alone, or the mfaToken of a sign-in's second step.
type passkeyBegin struct {
	MFAToken *string `json:"mfaToken"`
}

func (d *Deps) handleBeginPasskeySignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var in passkeyBegin
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		var (
			c   account.Ceremony
			err error
		)
		if in.MFAToken == nil {
			c, err = d.Accounts.BeginPasskeySignIn(r.Context())
		} else if err = checkText("mfaToken", *in.MFAToken, maxMFATokenLen); err == nil {
			c, err = d.Accounts.BeginPasskeySecondFactor(r.Context(), *in.MFAToken)
		}
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeCeremony(w, r, c)
	})
}

// passkeyFinish is the body of POST /auth/passkey/finish.
type passkeyFinish struct {
	CeremonyToken string          `json:"ceremonyToken"`
	Credential    json.RawMessage `json:"credential"`
	MFAToken      *string         `json:"mfaToken"`
}

func (d *Deps) handleFinishPasskeySignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var in passkeyFinish
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := checkCeremony(in.CeremonyToken, in.Credential); err != nil {
			d.writeError(w, r, err)
			return
		}
		client := httpsec.RateKey(d.ClientIP.Addr(r))
		var (
			u   blog.User
			err error
		)
		if in.MFAToken == nil {
			u, err = d.Accounts.FinishPasskeySignIn(r.Context(), client, in.CeremonyToken, in.Credential)
		} else if err = checkText("mfaToken", *in.MFAToken, maxMFATokenLen); err == nil {
			u, err = d.Accounts.FinishPasskeySecondFactor(r.Context(), client, *in.MFAToken, in.CeremonyToken, in.Credential)
		}
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeToken(w, r, u)
	})
}

func (d *Deps) handleBeginPasskeyReauth() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		c, err := d.Accounts.BeginPasskeyReauth(r.Context(), who.user)
		if errors.Is(err, account.ErrPasskeyRefused) {
			// Signed in, so not a 401: there is just no passkey to use.
			err = errNoPasskey
		}
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		d.writeCeremony(w, r, c)
	}
}
