package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenConfig configures Tokens.
type TokenConfig struct {
	Secret   []byte           // HMAC key, at least 32 bytes (NewTokens refuses shorter)
	Issuer   string           // iss, e.g. the public base URL; required
	Audience string           // aud, e.g. "palisade-api"; required
	TTL      time.Duration    // lifetime; 0 → 15 minutes
	Now      func() time.Time // nil → time.Now
}

// Claims are what Palisade needs from a verified token.
type Claims struct {
	UserID    string // sub
	TokenID   string // jti (random 128-bit, base64url)
	Version   int    // "ver": the user's token version at issue; bumping it revokes all of the user's tokens
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// ErrInvalidToken is wrapped by every verification failure. Its messages never
// include the token, which is a bearer credential and must stay out of logs.
var ErrInvalidToken = errors.New("auth: invalid token")

const (
	minSecretLen = 32 // HS256 key as long as its output, per RFC 7518 §3.2
	defaultTTL   = 15 * time.Minute
	// leeway absorbs clock skew between servers, nothing more; it is not a
	// grace period for expired tokens.
	leeway = 5 * time.Second
	// maxTokenLen bounds the work spent on a token before its signature is
	// checked; ours are about 300 bytes.
	maxTokenLen = 4096
)

// Tokens issues and verifies HS256 JWT access tokens.
type Tokens struct {
	secret []byte
	iss    string
	aud    string
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokens checks cfg and returns Tokens using it. It refuses secrets shorter
// than 32 bytes and an empty Issuer or Audience (without them a token minted
// for another service sharing the key would be accepted here).
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	if len(cfg.Secret) < minSecretLen {
		return nil, fmt.Errorf("auth: token secret is %d bytes, need at least %d", len(cfg.Secret), minSecretLen)
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: token issuer and audience are required")
	}
	if cfg.TTL < 0 {
		return nil, errors.New("auth: negative token TTL")
	}
	if cfg.TTL == 0 {
		cfg.TTL = defaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Tokens{
		// Copy so a caller that later wipes or reuses its slice can't change our key.
		secret: append([]byte(nil), cfg.Secret...),
		iss:    cfg.Issuer,
		aud:    cfg.Audience,
		ttl:    cfg.TTL,
		now:    cfg.Now,
	}
	t.parser = jwt.NewParser(
		// Pinning the algorithm defeats "alg":"none" and algorithm
		// confusion (e.g. an RS256 header with our secret as "public key").
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(cfg.Now),
		// One spelling per token: refuse non-canonical base64.
		jwt.WithStrictDecoding(),
	)
	return t, nil
}

// tokenClaims is the wire form. Ver is a pointer so that a missing "ver" is
// told apart from version 0.
type tokenClaims struct {
	jwt.RegisteredClaims
	Ver *int `json:"ver,omitempty"`
}

// claimError is a fixed description of a Palisade-specific claim failure,
// safe to show because it never quotes the token.
type claimError string

func (e claimError) Error() string { return string(e) }

const (
	errMissingSub   claimError = "missing sub"
	errMissingJTI   claimError = "missing jti"
	errMissingVer   claimError = "missing ver"
	errNegativeVer  claimError = "negative ver"
	errMissingIAT   claimError = "missing iat"
	errExpBeforeIAT claimError = "exp not after iat"
)

// Validate implements jwt.ClaimsValidator; the parser calls it after the
// standard checks (and even when they failed, so nothing here may assume
// that exp or iat is present), for the claims Palisade requires beyond those.
func (c *tokenClaims) Validate() error {
	switch {
	case c.Subject == "":
		return errMissingSub
	case c.ID == "":
		return errMissingJTI
	case c.Ver == nil:
		return errMissingVer
	case *c.Ver < 0:
		return errNegativeVer
	// WithIssuedAt only checks iat when present; we require it.
	case c.IssuedAt == nil:
		return errMissingIAT
	case c.ExpiresAt != nil && !c.ExpiresAt.After(c.IssuedAt.Time):
		return errExpBeforeIAT
	}
	return nil
}

// Issue signs a token for userID at the given token version, valid from now
// for the configured TTL. The returned Claims are exactly what Verify will
// report for the token (times are whole seconds, as in the JWT).
func (t *Tokens) Issue(userID string, version int) (string, Claims, error) {
	if userID == "" {
		return "", Claims{}, errors.New("auth: token subject is empty")
	}
	if version < 0 {
		return "", Claims{}, errors.New("auth: negative token version")
	}
	now := t.now().Truncate(time.Second)
	c := Claims{
		UserID:    userID,
		TokenID:   base64.RawURLEncoding.EncodeToString(randomBytes(16)),
		Version:   version,
		IssuedAt:  now,
		ExpiresAt: now.Add(t.ttl),
	}
	s, err := t.sign(c)
	if err != nil {
		return "", Claims{}, err
	}
	return s, c, nil
}

// sign writes c as a signed token, in the one shape Verify accepts.
func (t *Tokens) sign(c Claims) (string, error) {
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.iss,
			Subject:   c.UserID,
			Audience:  jwt.ClaimStrings{t.aud},
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ID:        c.TokenID,
		},
		Ver: &c.Version,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return s, nil
}

// Reissue signs a new token (a new ID) for the same user at a new token
// version, with the issue and expiry times of prev: after a change that
// moved the account's token version on, the client keeps its session, but
// not a fresh one. Its iat still says when the user last proved who they
// are, so re-issuing can never stretch a recent sign-in; and it expires
// when prev would have.
func (t *Tokens) Reissue(prev Claims, version int) (string, Claims, error) {
	if prev.UserID == "" || prev.IssuedAt.IsZero() || !prev.ExpiresAt.After(prev.IssuedAt) {
		return "", Claims{}, errors.New("auth: reissue needs the claims of a verified token")
	}
	if version < 0 {
		return "", Claims{}, errors.New("auth: negative token version")
	}
	c := Claims{
		UserID:    prev.UserID,
		TokenID:   base64.RawURLEncoding.EncodeToString(randomBytes(16)),
		Version:   version,
		IssuedAt:  prev.IssuedAt,
		ExpiresAt: prev.ExpiresAt,
	}
	s, err := t.sign(c)
	if err != nil {
		return "", Claims{}, err
	}
	return s, c, nil
}

// Verify checks token and returns its claims. It accepts only HS256 signed
// with our secret, and requires exp, iat, iss (matching), aud (matching), sub,
// jti and ver; exp and iat are judged with a few seconds' leeway for clock
// skew, so a token issued in the future is refused. Beyond that it accepts
// only the exact shape Issue writes (see checkShape): no other header
// parameter or claim, each claim of its type, and a lifetime no longer than
// the configured TTL. Every failure wraps ErrInvalidToken.
func (t *Tokens) Verify(token string) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, &tokenError{reason: reasonTooLong, cause: jwt.ErrTokenMalformed}
	}
	var tc tokenClaims
	_, err := t.parser.ParseWithClaims(token, &tc, t.key)
	if err != nil {
		return Claims{}, newTokenError(err)
	}
	if err := t.checkShape(token); err != nil {
		return Claims{}, newTokenError(err)
	}
	return Claims{
		UserID:    tc.Subject,
		TokenID:   tc.ID,
		Version:   *tc.Ver,
		IssuedAt:  tc.IssuedAt.Time,
		ExpiresAt: tc.ExpiresAt.Time,
	}, nil
}

func (t *Tokens) key(tok *jwt.Token) (any, error) {
	// WithValidMethods already refuses other algorithms; checking the
	// concrete method again keeps the key from ever reaching a non-HMAC
	// verifier should the parser options be changed.
	if tok.Method != jwt.SigningMethodHS256 {
		return nil, jwt.ErrTokenSignatureInvalid
	}
	return t.secret, nil
}

// tokenError reports why a token failed with a fixed message, never the
// library's, because those can quote decoded token content. It still
// unwraps to ErrInvalidToken and the matching jwt sentinel (e.g.
// jwt.ErrTokenExpired), so callers can tell an expired token from a forged one.
type tokenError struct {
	reason string
	cause  error
}

func (e *tokenError) Error() string { return ErrInvalidToken.Error() + ": " + e.reason }

func (e *tokenError) Unwrap() []error { return []error{ErrInvalidToken, e.cause} }

const (
	reasonTooLong = "too long"
	reasonOther   = "rejected"
)

// tokenReasons maps jwt's sentinels, most specific first, to fixed messages.
// Specific time, issuer and audience failures come before our own claim
// checks so that, say, an expired token still unwraps to jwt.ErrTokenExpired.
var tokenReasons = []struct {
	sentinel error
	reason   string
}{
	{jwt.ErrTokenSignatureInvalid, "bad signature"},
	{jwt.ErrTokenExpired, "expired"},
	{jwt.ErrTokenUsedBeforeIssued, "issued in the future"},
	{jwt.ErrTokenNotValidYet, "not valid yet"},
	{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
	{jwt.ErrTokenInvalidAudience, "wrong audience"},
	{jwt.ErrTokenRequiredClaimMissing, "required claim missing"},
}

// fallbackReasons follow our own claim checks.
var fallbackReasons = []struct {
	sentinel error
	reason   string
}{
	{jwt.ErrTokenInvalidClaims, "invalid claims"},
	{jwt.ErrTokenUnverifiable, "unverifiable"},
	{jwt.ErrTokenMalformed, "malformed"},
}

func newTokenError(err error) error {
	for _, r := range tokenReasons {
		if errors.Is(err, r.sentinel) {
			return &tokenError{reason: r.reason, cause: r.sentinel}
		}
	}
	// Our own claim checks name the exact claim; prefer them over the
	// generic "invalid claims".
	if ce, ok := errors.AsType[claimError](err); ok {
		return &tokenError{reason: string(ce), cause: jwt.ErrTokenInvalidClaims}
	}
	for _, r := range fallbackReasons {
		if errors.Is(err, r.sentinel) {
			return &tokenError{reason: r.reason, cause: r.sentinel}
		}
	}
	return &tokenError{reason: reasonOther, cause: jwt.ErrTokenInvalidClaims}
}
