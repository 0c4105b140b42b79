package web

import (
	"net/http"

	"github.com/palisade-blog/palisade/httpsec"
)

// routes registers every page on mux. Each is wrapped by d.site: session,
// current user, CSRF check on state-changing requests, and the policy
// that sends an account without a required second factor to set one up.
func (d *Deps) routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", d.site(d.handleHome()))
	mux.Handle("GET /post/{id}", d.site(d.handlePost()))
	mux.Handle("GET /u/{username}", d.site(d.handleAuthor()))

	mux.Handle("GET /register", d.site(d.handleRegisterForm()))
	mux.Handle("POST /register", d.site(d.handleRegister()))
	mux.Handle("GET /login", d.site(d.handleLoginForm()))
	mux.Handle("POST /login", d.site(d.handleLogin()))
	mux.Handle("POST /logout", d.site(d.handleLogout()))
	mux.Handle("GET /login/2fa", d.site(d.handleSecondFactorForm()))
	mux.Handle("POST /login/2fa", d.site(d.handleSecondFactor()))
	// Passkeys: JSON for passkey.js, behind the same CSRF and origin
	// checks as every form (see passkey.go).
	mux.Handle("POST /login/passkey/begin", d.site(d.passkeysAvailable(d.handlePasskeySignInBegin())))
	mux.Handle("POST /login/passkey/finish", d.site(d.passkeysAvailable(d.handlePasskeySignInFinish())))
	mux.Handle("POST /login/2fa/passkey/begin", d.site(d.passkeysAvailable(d.handleSecondFactorPasskeyBegin())))
	mux.Handle("POST /login/2fa/passkey/finish", d.site(d.passkeysAvailable(d.handleSecondFactorPasskeyFinish())))

	// The account page and how the account signs in. d.recent asks for a
	// sign-in within account.ReauthWindow (else "Confirm it's you").
	mux.Handle("GET /account", d.site(d.signedIn(d.handleAccount())))
	mux.Handle("POST /account/reauth", d.site(d.signedIn(d.handleReauth())))
	mux.Handle("GET /account/password", d.site(d.signedIn(d.handlePasswordForm())))
	mux.Handle("POST /account/password", d.site(d.signedIn(d.handlePasswordChange())))
	mux.Handle("GET /account/2fa/totp", d.site(d.signedIn(d.recent(d.handleTOTPSetup()))))
	mux.Handle("GET /account/2fa/totp/qr.png", d.site(d.handleTOTPQR()))
	mux.Handle("POST /account/2fa/totp/confirm", d.site(d.signedIn(d.recent(d.handleTOTPConfirm()))))
	mux.Handle("GET /account/2fa/totp/disable", d.site(d.signedIn(d.recent(d.handleTOTPDisableForm()))))
	mux.Handle("POST /account/2fa/totp/disable", d.site(d.signedIn(d.recent(d.handleTOTPDisable()))))
	mux.Handle("GET /account/2fa/recovery", d.site(d.signedIn(d.recent(d.handleRecoveryForm()))))
	mux.Handle("POST /account/2fa/recovery", d.site(d.signedIn(d.recent(d.handleRecovery()))))
	mux.Handle("POST /account/passkeys/begin", d.site(d.passkeyGuard(true, d.handlePasskeyRegisterBegin())))
	mux.Handle("POST /account/passkeys/finish", d.site(d.passkeyGuard(true, d.handlePasskeyRegisterFinish())))
	mux.Handle("GET /account/passkeys/add", d.site(d.signedIn(d.recent(d.handlePasskeyAdd()))))
	mux.Handle("POST /account/passkeys/{id}/rename", d.site(d.signedIn(d.handlePasskeyRename())))
	mux.Handle("GET /account/passkeys/{id}/remove", d.site(d.signedIn(d.recent(d.handlePasskeyRemoveForm()))))
	mux.Handle("POST /account/passkeys/{id}/remove", d.site(d.signedIn(d.recent(d.handlePasskeyRemove()))))
	mux.Handle("POST /account/reauth/passkey/begin", d.site(d.passkeyGuard(false, d.handlePasskeyReauthBegin())))
	mux.Handle("POST /account/reauth/passkey/finish", d.site(d.passkeyGuard(false, d.handlePasskeyReauthFinish())))

	mux.Handle("GET /setup", d.site(d.handleSetupForm()))
	mux.Handle("POST /setup", d.site(d.handleSetup()))

	mux.Handle("GET /write", d.site(d.signedIn(d.handleWriteForm())))
	mux.Handle("POST /write", d.site(d.signedIn(d.handleWrite())))
	mux.Handle("GET /post/{id}/edit", d.site(d.signedIn(d.handleEditForm())))
	mux.Handle("POST /post/{id}/edit", d.site(d.signedIn(d.handleEdit())))
	mux.Handle("GET /post/{id}/delete", d.site(d.signedIn(d.handleDeleteForm())))
	mux.Handle("POST /post/{id}/delete", d.site(d.signedIn(d.handleDelete())))

	mux.Handle("GET /admin", d.site(d.admin(d.handleAdmin())))
	mux.Handle("POST /admin/users/{id}/{action}", d.site(d.admin(d.handleUserAction())))
	mux.Handle("POST /admin/invites", d.site(d.admin(d.handleCreateInvite())))
	mux.Handle("POST /admin/invites/{id}/revoke", d.site(d.admin(d.handleRevokeInvite())))
	mux.Handle("POST /admin/settings", d.site(d.admin(d.handleSettings())))

	mux.HandleFunc("GET /static/{name}", d.pages.serveAsset)

	// What feed readers and crawlers fetch: the same for every visitor,
	// so without d.site (no session, no cookie, cacheable).
	mux.Handle("GET /feed.xml", d.handleFeed())
	mux.Handle("GET /u/{username}/feed.xml", d.handleAuthorFeed())
	mux.Handle("GET /sitemap.xml", d.handleSitemap())
	mux.Handle("GET /robots.txt", d.handleRobots())
}

// unrouted answers what no page matches (nor, in front of the site, any
// API route): a browser gets the not-found page, whatever the method; any
// other client d.NotFound.
func (d *Deps) unrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpsec.Accepts(r, "text/html") {
			d.WriteError(w, r, http.StatusNotFound, "There is no page at this address.")
			return
		}
		d.NotFound(w, r, httpsec.AllowedMethods(mux, r))
	})
}
