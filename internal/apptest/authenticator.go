package apptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is a software WebAuthn authenticator and the browser in
// front of it, for tests: Create and Get take the options a server sends
// (the {"publicKey": {...}} object or the bare options) and return what
// PublicKeyCredential.toJSON() would, as JSON. It keeps one ECDSA P-256
// key per credential (ES256), signs with user presence and user
// verification, and attests "none".
//
// The exported fields bend it into what an attack or a broken device
// looks like; set them between calls.
type Authenticator struct {
	// Origin is what the "browser" writes into clientDataJSON: the page
	// the ceremony ran on.
	Origin string
	// RPID, when set, replaces the relying party ID the options name in
	// the rpIdHash (a credential made for, or used at, another site).
	RPID string
	// NoUserVerification clears the UV flag (a PIN or fingerprint was
	// never asked).
	NoUserVerification bool
	// Synced sets the backup flags (BE and BS) on new credentials and
	// keeps their counter at 0, as synced passkeys do.
	Synced bool
	// UserHandle, when set, is returned by Get instead of the credential's
	// own user handle.
	UserHandle []byte

	mu    sync.Mutex
	creds []*softCredential
}

// softCredential is one credential the authenticator holds.
type softCredential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	rpID       string
	userHandle []byte
	counter    uint32
	synced     bool
}

// NewAuthenticator returns an authenticator with no credentials, used
// from pages at origin.
func NewAuthenticator(origin string) *Authenticator {
	return &Authenticator{Origin: origin}
}

// Clone returns a copy holding the same keys and counters: a cloned
// authenticator, which the counters should give away.
func (a *Authenticator) Clone() *Authenticator {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &Authenticator{Origin: a.Origin, RPID: a.RPID, NoUserVerification: a.NoUserVerification, Synced: a.Synced}
	for _, cr := range a.creds {
		cp := *cr
		c.creds = append(c.creds, &cp)
	}
	return c
}

// CredentialIDs lists the IDs of the credentials held, base64url.
func (a *Authenticator) CredentialIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for _, c := range a.creds {
		ids = append(ids, base64.RawURLEncoding.EncodeToString(c.id))
	}
	return ids
}

// clientOptions is what Create and Get read of the server's options.
type clientOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	RPID string `json:"rpId"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	AllowCredentials []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
	AuthenticatorSelection struct {
		UserVerification string `json:"userVerification"`
	} `json:"authenticatorSelection"`
}

// parseOptions accepts {"publicKey": {...}} or the options alone.
func parseOptions(options []byte) (clientOptions, error) {
	var wrapped struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &wrapped); err == nil && len(wrapped.PublicKey) > 0 {
		options = wrapped.PublicKey
	}
	var o clientOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return clientOptions{}, fmt.Errorf("authenticator: options: %w", err)
	}
	if o.Challenge == "" {
		return clientOptions{}, errors.New("authenticator: options have no challenge")
	}
	return o, nil
}

// Create makes a new credential for the options of
// navigator.credentials.create and returns the registration response.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	o, err := parseOptions(options)
	if err != nil {
		return nil, err
	}
	userHandle, err := base64.RawURLEncoding.DecodeString(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("authenticator: user.id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id) // never fails (Go 1.24+)

	a.mu.Lock()
	defer a.mu.Unlock()
	rpID := a.rpID(o.RP.ID)
	c := &softCredential{id: id, key: key, rpID: rpID, userHandle: userHandle, synced: a.Synced}
	if !c.synced {
		c.counter = 1
	}
	pub, err := coseKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	// §6.5.1 attested credential data: AAGUID (zero: "none" names no
	// model), credential ID length and ID, then the COSE key.
	attested := make([]byte, 16, 16+2+len(id)+len(pub))
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(id)))
	attested = append(attested, id...)
	attested = append(attested, pub...)
	authData := a.authData(rpID, c, flagAT)
	authData = append(authData, attested...)
	attObj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	a.creds = append(a.creds, c)
	clientData := a.clientData("webauthn.create", o.Challenge)
	b64 := base64.RawURLEncoding.EncodeToString
	return json.Marshal(map[string]any{
		"id":    b64(id),
		"rawId": b64(id),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64(clientData),
			"attestationObject": b64(attObj),
			"transports":        []string{"internal"},
		},
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
	})
}

// Get signs the challenge of the options of navigator.credentials.get
// with a credential for its relying party (the first of
// allowCredentials it holds, else the newest) and returns the assertion.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	o, err := parseOptions(options)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.pick(o)
	if c == nil {
		return nil, errors.New("authenticator: no credential for this request")
	}
	if !c.synced {
		c.counter++
	}
	authData := a.authData(a.rpID(o.RPID), c, 0)
	clientData := a.clientData("webauthn.get", o.Challenge)
	// §6.3.3: the signature is over authenticatorData || SHA-256(clientDataJSON).
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, err
	}
	userHandle := c.userHandle
	if a.UserHandle != nil {
		userHandle = a.UserHandle
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return json.Marshal(map[string]any{
		"id":    b64(c.id),
		"rawId": b64(c.id),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64(clientData),
			"authenticatorData": b64(authData),
			"signature":         b64(sig),
			"userHandle":        b64(userHandle),
		},
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
	})
}

// SetCounter sets the signature counter of every credential held: to
// replay an old count, say. The next Get adds one to it.
func (a *Authenticator) SetCounter(n uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		c.counter = n
	}
}

// pick chooses the credential a Get signs with.
func (a *Authenticator) pick(o clientOptions) *softCredential {
	for _, allowed := range o.AllowCredentials {
		for _, c := range a.creds {
			if base64.RawURLEncoding.EncodeToString(c.id) == allowed.ID {
				return c
			}
		}
	}
	if len(o.AllowCredentials) > 0 || len(a.creds) == 0 {
		return nil
	}
	return a.creds[len(a.creds)-1]
}

// rpID is the relying party ID the authenticator signs for: the options'
// own, unless the test chose another.
func (a *Authenticator) rpID(fromOptions string) string {
	if a.RPID != "" {
		return a.RPID
	}
	return fromOptions
}

// Authenticator data flags (§6.1).
const (
	flagUP = 1 << 0
	flagUV = 1 << 2
	flagBE = 1 << 3
	flagBS = 1 << 4
	flagAT = 1 << 6
)

// authData is §6.1's authenticator data without extensions:
// rpIdHash, flags, signCount.
func (a *Authenticator) authData(rpID string, c *softCredential, extra byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	flags := byte(flagUP) | extra
	if !a.NoUserVerification {
		flags |= flagUV
	}
	if c.synced {
		flags |= flagBE | flagBS
	}
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	return binary.BigEndian.AppendUint32(out, c.counter)
}

// clientData is the browser's collected client data (§5.8.1).
func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{ // a map of strings and a bool always encodes
		"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false,
	})
	return b
}

// coseKey encodes an ES256 public key as a COSE_Key (RFC 9053): kty EC2,
// alg ES256, crv P-256, x, y.
func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	point, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	enc, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return enc.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:65]})
}
