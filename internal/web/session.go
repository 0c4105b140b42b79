package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Session time-outs: a session ends after IdleTimeout without a request,
// and after Lifetime whatever happens (the tutorial's one day).
const (
	IdleTimeout = 2 * time.Hour
	Lifetime    = 24 * time.Hour
)

// Cookie names. In production the __Host- prefix makes the browser refuse
// the cookie unless it is Secure, has Path=/ and no Domain, so a sibling
// subdomain can neither set nor overwrite it.
const (
	CookieName       = "palisade_session"
	SecureCookieName = "__Host-palisade_session"
)

// Session keys.
const (
	keyUserID  = "uid"
	keyVersion = "ver" // the user's token version at sign-in
	keyCSRF    = "csrf"
	// keyAuthAt is when the visitor last proved who they are (password,
	// second factor or re-authentication), in Unix seconds: the pages
	// that change how the account signs in ask for it to be recent.
	keyAuthAt = "authAt"
	// keyMFA is the pending sign-in's token between the password and the
	// second factor, and keyMFANext where that sign-in returns to. The
	// token lives only in the server-side session, never in a page.
	keyMFA     = "mfa"
	keyMFANext = "mfaNext"
	// keyMFAMethods are the ways the pending sign-in's account can finish
	// it (account.SecondFactorMethods, comma-separated): the second step
	// offers only those.
	keyMFAMethods = "mfaMethods"
)

// newSessions returns the session manager over store. secure is true in
// production: the cookie is then Secure and __Host- prefixed.
func newSessions(store blog.SessionStore, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = hashedStore{store}
	sm.IdleTimeout = IdleTimeout
	sm.Lifetime = Lifetime
	sm.Cookie.Name = CookieName
	if secure {
		sm.Cookie.Name = SecureCookieName
	}
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteStrictMode
	sm.Cookie.Secure = secure
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	return sm
}

// hashedStore keeps sessions in a blog.SessionStore under the SHA-256 of
// their token, so the database never holds a value that works as a
// cookie. It implements scs.CtxStore (and scs.Store for completeness).
type hashedStore struct{ s blog.SessionStore }

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (h hashedStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return h.s.FindSession(ctx, sessionKey(token))
}

func (h hashedStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return h.s.SaveSession(ctx, sessionKey(token), b, expiry)
}

func (h hashedStore) DeleteCtx(ctx context.Context, token string) error {
	return h.s.DeleteSession(ctx, sessionKey(token))
}

func (h hashedStore) Find(token string) ([]byte, bool, error) {
	return h.FindCtx(context.Background(), token)
}

func (h hashedStore) Commit(token string, b []byte, expiry time.Time) error {
	return h.CommitCtx(context.Background(), token, b, expiry)
}

func (h hashedStore) Delete(token string) error { return h.DeleteCtx(context.Background(), token) }
