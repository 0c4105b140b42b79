package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// Ceremony is a begun WebAuthn registration or sign-in: the token that
// finishes it, and the options the browser passes to
// navigator.credentials.create or get.
type Ceremony struct {
	// Token is the ceremony token (32 random bytes, base64url): it names
	// the server-side state, and works once.
	Token string
	// Options is the {"publicKey": {...}} object, as JSON.
	Options json.RawMessage
}

// Passkey errors, safe to show.
var (
	ErrCeremonyExpired = blog.Errorf(blog.EUNAUTHORIZED, "This passkey request has expired or was already used: try again")
	// ErrPasskeyRefused is every assertion or attestation that does not
	// verify, whatever was wrong with it, so a client learns nothing but
	// "no" (and never whether a credential is registered).
	ErrPasskeyRefused = blog.Errorf(blog.EUNAUTHORIZED, "The passkey could not be verified")
	// ErrNoPasskeys: browsers allow passkeys only for a domain name, and
	// this blog's base URL has an IP address (or none was wired).
	ErrNoPasskeys = blog.Errorf(blog.ECONFLICT, "Passkeys need this blog to be served at a domain name: its operator must set PALISADE_BASE_URL")
)

const (
	// CeremonyTTL is how long a begun ceremony can be finished: the
	// timeout the browser is given too.
	CeremonyTTL = 5 * time.Minute
	// MaxCredentialBytes bounds a credential as sent (the JSON of
	// PublicKeyCredential.toJSON()): a passkey's is well under 2 KiB,
	// an RSA one with its attestation a few.
	MaxCredentialBytes = 16 << 10
	// CeremonyTokenLen is the length of a ceremony token: 32 bytes in
	// base64url without padding.
	CeremonyTokenLen = 43
)

// Ceremony purposes: a ceremony begun for one can't finish another.
const (
	purposeRegister     = "register"
	purposeSignIn       = "signin"
	purposeSecondFactor = "second-factor"
	purposeReauth       = "reauth"
)

// ceremonyState is what a begun ceremony keeps on the server.
type ceremonyState struct {
	Purpose string `json:"purpose"`
	// UserID is the account, when the ceremony was begun for one.
	UserID string `json:"userID,omitempty"`
	// MFATokenID binds a second-factor ceremony to the sign-in it
	// continues.
	MFATokenID string               `json:"mfaTokenID,omitempty"`
	Expires    time.Time            `json:"expires"`
	Session    webauthn.SessionData `json:"session"`
}

// passkeyAlgorithms are those a new passkey may use, most preferred first:
// what platform authenticators, security keys and Windows Hello make.
var passkeyAlgorithms = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgEdDSA},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
}

// NewWebAuthn returns the relying party of a blog served at origin: its
// ID is host, the origin's host name (no port), and only that origin's
// pages may use its passkeys. User verification is required everywhere,
// so a passkey is both factors. For a host that is an IP address, where
// browsers refuse passkeys, it returns nil: the server runs, and passkeys
// are refused with ErrNoPasskeys.
func NewWebAuthn(origin, host, displayName string) (*webauthn.WebAuthn, error) {
	if net.ParseIP(host) != nil {
		return nil, nil
	}
	if displayName == "" {
		displayName = "Palisade"
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL}
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  host,
		RPDisplayName:         displayName,
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn relying party: %w", err)
	}
	return w, nil
}

// passkeyUser is an account as go-webauthn sees it.
type passkeyUser struct {
	u     blog.User
	creds []webauthn.Credential
}

// WebAuthnID is the user handle: the account ID, random and free of any
// personal data, unlike a username.
func (p passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string                       { return p.u.Username }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.u.Username }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// passkeyUser loads u's passkeys for go-webauthn.
func (s *Service) passkeyUser(ctx context.Context, u blog.User) (passkeyUser, []blog.Passkey, error) {
	pks, err := s.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return passkeyUser{}, nil, fmt.Errorf("passkeys: %w", err)
	}
	pu := passkeyUser{u: u}
	for _, p := range pks {
		c, err := credentialOf(p)
		if err != nil {
			return passkeyUser{}, nil, err
		}
		pu.creds = append(pu.creds, c)
	}
	return pu, pks, nil
}

// credentialOf is a stored passkey as go-webauthn's credential record.
func credentialOf(p blog.Passkey) (webauthn.Credential, error) {
	id, err := base64.RawURLEncoding.DecodeString(p.ID)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey %q: bad stored ID: %w", p.ID, err)
	}
	c := webauthn.Credential{
		ID:              id,
		PublicKey:       p.PublicKey,
		AttestationType: p.AttestationType,
		Flags: webauthn.CredentialFlags{
			UserPresent: true, UserVerified: true,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState,
		},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c, nil
}

// descriptors lists passkeys for excludeCredentials or allowCredentials.
func descriptors(creds []webauthn.Credential) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, c := range creds {
		out = append(out, c.Descriptor())
	}
	return out
}

// BeginPasskeyRegistration begins adding a passkey to u. Returns
// blog.ErrTooManyPasskeys when u has as many as allowed.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, u blog.User) (Ceremony, error) {
	if s.WebAuthn == nil {
		return Ceremony{}, ErrNoPasskeys
	}
	if u.Passkeys >= blog.MaxPasskeys {
		return Ceremony{}, blog.ErrTooManyPasskeys
	}
	pu, _, err := s.passkeyUser(ctx, u)
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey registration: %w", err)
	}
	creation, sd, err := s.WebAuthn.BeginRegistration(pu,
		webauthn.WithCredentialParameters(passkeyAlgorithms),
		// Registering the same authenticator twice is refused by the
		// browser before it asks the user anything.
		webauthn.WithExclusions(descriptors(pu.creds)),
		webauthn.WithRegistrationRelyingPartyName(s.issuer(ctx)),
	)
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey registration: %w", err)
	}
	return s.saveCeremony(ctx, ceremonyState{Purpose: purposeRegister, UserID: u.ID, Session: *sd}, creation)
}

// FinishPasskeyRegistration verifies the new credential (the JSON of
// PublicKeyCredential.toJSON()) against the ceremony begun for u and keeps
// it as a passkey called name. Returns blog.ErrInvalidPasskeyName (the
// ceremony is not used up then, so the client may send a better name),
// ErrCeremonyExpired, ErrPasskeyRefused, blog.ErrPasskeyExists or
// blog.ErrTooManyPasskeys. It bumps u's token version: the caller signs
// the current client in again.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, u blog.User, token, name string, credential []byte) (blog.Passkey, error) {
	name = strings.TrimSpace(name)
	if !blog.ValidPasskeyName(name) {
		return blog.Passkey{}, blog.ErrInvalidPasskeyName
	}
	st, err := s.takeCeremony(ctx, token, purposeRegister, u.ID)
	if err != nil {
		return blog.Passkey{}, err
	}
	if len(credential) > MaxCredentialBytes {
		return blog.Passkey{}, s.refused(ctx, "register", refusal("credential too large"))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return blog.Passkey{}, s.refused(ctx, "register", err)
	}
	pu, _, err := s.passkeyUser(ctx, u)
	if err != nil {
		return blog.Passkey{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	c, err := s.WebAuthn.CreateCredential(pu, st.Session, parsed)
	if err != nil {
		return blog.Passkey{}, s.refused(ctx, "register", err)
	}
	p := blog.Passkey{
		ID:              base64.RawURLEncoding.EncodeToString(c.ID),
		UserID:          u.ID,
		Name:            name,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		AAGUID:          c.Authenticator.AAGUID,
		SignCount:       c.Authenticator.SignCount,
		BackupEligible:  c.Flags.BackupEligible,
		BackupState:     c.Flags.BackupState,
		CreatedAt:       s.now().UTC(),
	}
	for _, t := range c.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	if err := s.Store.AddPasskey(ctx, p); err != nil {
		return blog.Passkey{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	logging.Security(ctx, s.Log, "2fa.passkey.added", slog.String("passkey", p.ID))
	return p, nil
}

// BeginPasskeySignIn begins a sign-in with a passkey alone. It names no
// account: the browser offers the passkeys it has for this site.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (Ceremony, error) {
	if s.WebAuthn == nil {
		return Ceremony{}, ErrNoPasskeys
	}
	assertion, sd, err := s.WebAuthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return s.saveCeremony(ctx, ceremonyState{Purpose: purposeSignIn, Session: *sd}, assertion)
}

// FinishPasskeySignIn signs in the owner of the passkey that signed the
// ceremony's challenge, for a client (its rate-limit key). A passkey with
// user verification is both factors: no second step follows. Failures
// count against the client's sign-in limit. Returns ErrCeremonyExpired,
// ErrPasskeyRefused (for an unknown passkey and a disabled account too),
// blog.ErrPasskeyCounter, a *ThrottledError, or EUNAVAILABLE when the
// limiter is down.
func (s *Service) FinishPasskeySignIn(ctx context.Context, client, token string, credential []byte) (blog.User, error) {
	clientKey := "login:client:" + client
	if err := s.takeClientAttempt(ctx, clientKey); err != nil {
		return blog.User{}, err
	}
	u, err := s.passkeySignIn(ctx, token, credential)
	if isClientFailure(err) {
		return blog.User{}, err
	}
	if err != nil {
		s.giveBack(ctx, clientKey)
		return blog.User{}, err
	}
	_, accountKey := signInKeys(client, u.Username)
	s.signedIn(ctx, clientKey, accountKey)
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "login.success", slog.String("method", "passkey"))
	return u, nil
}

func (s *Service) passkeySignIn(ctx context.Context, token string, credential []byte) (blog.User, error) {
	st, err := s.takeCeremony(ctx, token, purposeSignIn, "")
	if err != nil {
		return blog.User{}, err
	}
	parsed, err := parseAssertion(credential)
	if err != nil {
		return blog.User{}, s.refused(ctx, "signin", err)
	}
	p, err := s.Store.PasskeyByID(ctx, base64.RawURLEncoding.EncodeToString(parsed.RawID))
	if errors.Is(err, blog.ErrPasskeyNotFound) {
		return blog.User{}, s.refused(ctx, "signin", refusal("unknown credential"))
	}
	if err != nil {
		return blog.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	// The user handle the authenticator kept must be the account the
	// credential was registered to: else an authenticator is claiming a
	// passkey for an account that never registered it.
	if !bytes.Equal(parsed.Response.UserHandle, []byte(p.UserID)) {
		logging.Security(ctx, s.Log, "passkey.user_handle_mismatch", slog.String("passkey", p.ID))
		return blog.User{}, ErrPasskeyRefused
	}
	u, err := s.Store.UserByID(ctx, p.UserID)
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		return blog.User{}, s.refused(ctx, "signin", refusal("unknown account"))
	}
	if err != nil {
		return blog.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	if u.Disabled {
		return blog.User{}, s.refused(ctx, "signin", refusal("disabled account"))
	}
	pu, _, err := s.passkeyUser(ctx, u)
	if err != nil {
		return blog.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	handler := func(rawID, userHandle []byte) (webauthn.User, error) { return pu, nil }
	_, c, err := s.WebAuthn.ValidatePasskeyLogin(handler, st.Session, parsed)
	if err != nil {
		return blog.User{}, s.refused(ctx, "signin", err)
	}
	if err := s.usePasskey(ctx, p.ID, c); err != nil {
		return blog.User{}, err
	}
	return u, nil
}

// BeginPasskeySecondFactor begins the second step of a sign-in with one of
// the account's passkeys; mfaToken (from StartSecondFactor) must be valid,
// and is not used up here. Returns ErrSignInExpired, or ErrPasskeyRefused
// when the account has no passkey.
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, mfaToken string) (Ceremony, error) {
	claims, u, err := s.checkMFAToken(ctx, mfaToken)
	if err != nil {
		return Ceremony{}, err
	}
	return s.beginAssertion(ctx, u, ceremonyState{Purpose: purposeSecondFactor, UserID: u.ID, MFATokenID: claims.TokenID})
}

// FinishPasskeySecondFactor signs in the holder of mfaToken if the
// credential signed the ceremony's challenge with one of the account's
// passkeys. Like FinishSecondFactor, it is throttled per client and per
// account and uses the mfaToken up on success. Returns ErrSignInExpired,
// ErrCeremonyExpired, ErrPasskeyRefused, blog.ErrPasskeyCounter, a
// *ThrottledError, or EUNAVAILABLE when the limiter is down.
func (s *Service) FinishPasskeySecondFactor(ctx context.Context, client, mfaToken, token string, credential []byte) (blog.User, error) {
	claims, u, err := s.checkMFAToken(ctx, mfaToken)
	if err != nil {
		return blog.User{}, err
	}
	clientKey, accountKey := signInKeys(client, u.Username)
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return blog.User{}, err
	}
	err = s.finishAssertion(ctx, u, token, credential, purposeSecondFactor, claims.TokenID)
	if isClientFailure(err) {
		logging.Security(ctx, s.Log, "login.failure", slog.String("reason", "second_factor"),
			slog.String("username", u.Username), slog.String("user", u.ID))
		return blog.User{}, err
	}
	if err == nil {
		err = s.claimMFAToken(ctx, u.ID, claims)
	}
	if err != nil {
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return blog.User{}, err
	}
	s.signedIn(ctx, clientKey, accountKey)
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "login.success", slog.String("method", "passkey"))
	return u, nil
}

// BeginPasskeyReauth begins re-authenticating the signed-in u with one of
// u's passkeys (ErrPasskeyRefused when u has none).
func (s *Service) BeginPasskeyReauth(ctx context.Context, u blog.User) (Ceremony, error) {
	return s.beginAssertion(ctx, u, ceremonyState{Purpose: purposeReauth, UserID: u.ID})
}

// FinishPasskeyReauth checks that u is at the keyboard with one of u's
// passkeys, throttled like sign-in. Returns ErrCeremonyExpired,
// ErrPasskeyRefused, blog.ErrPasskeyCounter, a *ThrottledError, or
// EUNAVAILABLE when the limiter is down.
func (s *Service) FinishPasskeyReauth(ctx context.Context, client string, u blog.User, token string, credential []byte) error {
	clientKey, accountKey := signInKeys(client, u.Username)
	if err := s.takeAttempt(ctx, clientKey, accountKey); err != nil {
		return err
	}
	err := s.finishAssertion(ctx, u, token, credential, purposeReauth, "")
	if isClientFailure(err) {
		logging.Security(ctx, s.Log, "reauth.failure", slog.String("method", "passkey"))
		return err
	}
	if err != nil {
		s.giveBack(ctx, clientKey)
		s.giveBack(ctx, accountKey)
		return err
	}
	s.signedIn(ctx, clientKey, accountKey)
	logging.Audit(ctx, s.Log, "reauth.success", slog.String("method", "passkey"))
	return nil
}

// beginAssertion begins a ceremony in which one of u's passkeys signs.
func (s *Service) beginAssertion(ctx context.Context, u blog.User, st ceremonyState) (Ceremony, error) {
	if s.WebAuthn == nil {
		return Ceremony{}, ErrNoPasskeys
	}
	pu, _, err := s.passkeyUser(ctx, u)
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey %s: %w", st.Purpose, err)
	}
	if len(pu.creds) == 0 {
		return Ceremony{}, ErrPasskeyRefused
	}
	// BeginLogin lists u's passkeys as allowCredentials.
	assertion, sd, err := s.WebAuthn.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey %s: %w", st.Purpose, err)
	}
	st.Session = *sd
	return s.saveCeremony(ctx, st, assertion)
}

// finishAssertion verifies that one of u's passkeys signed the challenge
// of the ceremony token names, begun for purpose (and, for a second
// factor, for the sign-in whose mfaToken has the ID mfaTokenID).
func (s *Service) finishAssertion(ctx context.Context, u blog.User, token string, credential []byte, purpose, mfaTokenID string) error {
	st, err := s.takeCeremony(ctx, token, purpose, u.ID)
	if err != nil {
		return err
	}
	if st.MFATokenID != mfaTokenID {
		return ErrCeremonyExpired
	}
	parsed, err := parseAssertion(credential)
	if err != nil {
		return s.refused(ctx, purpose, err)
	}
	pu, _, err := s.passkeyUser(ctx, u)
	if err != nil {
		return fmt.Errorf("finish passkey %s: %w", purpose, err)
	}
	c, err := s.WebAuthn.ValidateLogin(pu, st.Session, parsed)
	if err != nil {
		return s.refused(ctx, purpose, err)
	}
	return s.usePasskey(ctx, base64.RawURLEncoding.EncodeToString(c.ID), c)
}

// parseAssertion parses an assertion (the JSON of
// PublicKeyCredential.toJSON()) no larger than MaxCredentialBytes.
func parseAssertion(credential []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(credential) > MaxCredentialBytes {
		return nil, refusal("credential too large")
	}
	return protocol.ParseCredentialRequestResponseBytes(credential)
}

// usePasskey records a verified sign-in with passkey id. A counter that did
// not move forward means two authenticators hold the same key: the
// sign-in is refused and the event logged for the operator.
func (s *Service) usePasskey(ctx context.Context, id string, c *webauthn.Credential) error {
	var err error = blog.ErrPasskeyCounter
	if !c.Authenticator.CloneWarning {
		err = s.Store.UsePasskey(ctx, id, c.Authenticator.SignCount, c.Flags.BackupState, s.now().UTC())
	}
	if errors.Is(err, blog.ErrPasskeyCounter) {
		logging.Security(ctx, s.Log, "passkey.counter", slog.String("passkey", id))
		return blog.ErrPasskeyCounter
	}
	if err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	return nil
}

// refused logs why a credential did not verify (go-webauthn's error type
// only: its details may quote what the client sent) and returns the one
// answer a client gets.
func (s *Service) refused(ctx context.Context, purpose string, err error) error {
	reason := "invalid"
	var (
		perr *protocol.Error
		own  refusal
	)
	switch {
	case errors.As(err, &own):
		reason = string(own)
	case errors.As(err, &perr):
		reason = perr.Type
	}
	logging.Security(ctx, s.Log, "passkey.refused", slog.String("purpose", purpose), slog.String("reason", reason))
	return ErrPasskeyRefused
}

// refusal is a reason of our own to refuse a credential, safe to log.
type refusal string

func (r refusal) Error() string { return string(r) }

// isClientFailure reports whether err is the client's failed attempt (as
// opposed to a failure of ours, or success): it counts against the limits.
func isClientFailure(err error) bool {
	return errors.Is(err, ErrPasskeyRefused) || errors.Is(err, ErrCeremonyExpired) ||
		errors.Is(err, blog.ErrPasskeyCounter)
}

// takeClientAttempt counts one attempt of a sign-in that names no account
// yet (a passkey alone): only the client's limit applies.
func (s *Service) takeClientAttempt(ctx context.Context, clientKey string) error {
	d, err := s.Limiter.Take(ctx, clientKey)
	if err != nil {
		// Fails closed, as every sign-in does.
		s.Log.ErrorContext(ctx, "sign-in limiter unavailable", "error", err)
		return blog.Errorf(blog.EUNAVAILABLE, "Sign-in is unavailable, please retry")
	}
	if !d.Allowed {
		logging.Security(ctx, s.Log, "login.throttled", slog.String("scope", "client"))
		return &ThrottledError{RetryAfter: d.ResetAfter}
	}
	return nil
}

// saveCeremony keeps st under a new token for CeremonyTTL and returns the
// token with the browser's options.
func (s *Service) saveCeremony(ctx context.Context, st ceremonyState, options any) (Ceremony, error) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	st.Expires = s.now().Add(CeremonyTTL)
	data, err := json.Marshal(st)
	if err != nil {
		return Ceremony{}, fmt.Errorf("save ceremony: %w", err)
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return Ceremony{}, fmt.Errorf("save ceremony: %w", err)
	}
	// The store's expiry runs on real time; st.Expires, checked when the
	// ceremony finishes, on the service's clock.
	if err := s.Ceremonies.SaveSession(ctx, ceremonyKey(token), data, time.Now().Add(CeremonyTTL)); err != nil {
		return Ceremony{}, fmt.Errorf("save ceremony: %w", err)
	}
	return Ceremony{Token: token, Options: opts}, nil
}

// takeCeremony takes (reads and deletes) the ceremony token names, and checks it
// was begun for purpose and (when userID is not "") for that account.
// Every mismatch is ErrCeremonyExpired.
func (s *Service) takeCeremony(ctx context.Context, token, purpose, userID string) (ceremonyState, error) {
	if len(token) != CeremonyTokenLen || s.WebAuthn == nil {
		return ceremonyState{}, ErrCeremonyExpired
	}
	// Single use: read and deleted in one step, so that two requests with
	// one ceremony can't both read it, and deleted before it is checked,
	// so a ceremony that failed can't be tried again either.
	data, found, err := s.Ceremonies.TakeSession(ctx, ceremonyKey(token))
	if err != nil {
		return ceremonyState{}, fmt.Errorf("take ceremony: %w", err)
	}
	if !found {
		return ceremonyState{}, ErrCeremonyExpired
	}
	var st ceremonyState
	if err := json.Unmarshal(data, &st); err != nil {
		return ceremonyState{}, fmt.Errorf("read ceremony: %w", err)
	}
	if st.Purpose != purpose || st.UserID != userID || !s.now().Before(st.Expires) {
		if st.Purpose != purpose || st.UserID != userID {
			logging.Security(ctx, s.Log, "passkey.ceremony_mismatch", slog.String("purpose", purpose))
		}
		return ceremonyState{}, ErrCeremonyExpired
	}
	return st, nil
}

// ceremonyKey is where a ceremony is kept: a hash of its token, so that
// whoever reads the session store can't finish one.
func ceremonyKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "webauthn:" + hex.EncodeToString(sum[:])
}

// SecondFactorMethods are the ways u can finish a sign-in's second step:
// "totp" and "recovery" with an authenticator app, "passkey" with a
// passkey.
func SecondFactorMethods(u blog.User) []string {
	var m []string
	if u.TOTP {
		m = append(m, "totp", "recovery")
	}
	if u.Passkeys > 0 {
		m = append(m, "passkey")
	}
	return m
}

// Passkeys returns u's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, u blog.User) ([]blog.Passkey, error) {
	pks, err := s.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return pks, nil
}

// RenamePasskey renames u's passkey id. Returns blog.ErrPasskeyNotFound
// (also for another account's) or blog.ErrInvalidPasskeyName.
func (s *Service) RenamePasskey(ctx context.Context, u blog.User, id, name string) error {
	name = strings.TrimSpace(name)
	if !blog.ValidPasskeyName(name) {
		return blog.ErrInvalidPasskeyName
	}
	if err := s.Store.RenamePasskey(ctx, u.ID, id, name); err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	return nil
}

// RemovePasskey removes u's passkey id (blog.ErrPasskeyNotFound, also for
// another account's). It bumps u's token version.
func (s *Service) RemovePasskey(ctx context.Context, u blog.User, id string) error {
	if err := s.Store.DeletePasskey(ctx, u.ID, id); err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	logging.Security(ctx, s.Log, "2fa.passkey.removed", slog.String("passkey", id))
	return nil
}
