package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// The exact shape of a token Issue makes. Verify refuses anything else even
// when it is signed with our key: a header parameter we don't act on (crit,
// kid, jku…), a claim we never write (nbf, a role…), a claim of another
// type (exp as a string or a fraction), a duplicated key (which JSON
// parsers resolve differently), or a lifetime longer than we grant. With a
// leaked or shared key, or a future change to Issue, only tokens of the
// shape we make can be replayed here.

const (
	errHeaderShape claimError = "unexpected header"
	errClaimsShape claimError = "unexpected claims"
	errLifetime    claimError = "lifetime longer than issued"
	// maxSubLen bounds sub; our user IDs are far shorter.
	maxSubLen = 64
	jtiLen    = 16 // bytes of randomness in a jti
)

// checkShape checks the header and claims segments of token, whose
// signature and standard claims the parser has already accepted.
func (t *Tokens) checkShape(token string) error {
	header, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	if err := checkHeader(header); err != nil {
		return err
	}
	return t.checkClaims(payload)
}

// issuedHeader is the header segment of every token Issue makes (the
// library writes {"alg":"HS256","typ":"JWT"}); TestIssuedHeader pins it.
const issuedHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// checkHeader accepts only the header Issue writes, byte for byte: no
// other parameter, order, spelling or whitespace.
func checkHeader(segment string) error {
	if segment != issuedHeader {
		return errHeaderShape
	}
	return nil
}

func (t *Tokens) checkClaims(segment string) error {
	seen := map[string]bool{}
	var iat, exp int64
	err := decodeObject(segment, func(key string, dec *json.Decoder) error {
		if seen[key] {
			return errClaimsShape
		}
		seen[key] = true
		switch key {
		case "iss":
			v, err := stringValue(dec)
			if err != nil || v != t.iss {
				return errClaimsShape
			}
		case "sub":
			v, err := stringValue(dec)
			if err != nil || v == "" || len(v) > maxSubLen {
				return errClaimsShape
			}
		case "aud":
			// The library writes a one-element array.
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return errClaimsShape
			}
			v, err := stringValue(dec)
			if err != nil || v != t.aud {
				return errClaimsShape
			}
			if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
				return errClaimsShape
			}
		case "jti":
			v, err := stringValue(dec)
			if err != nil {
				return errClaimsShape
			}
			raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
			if err != nil || len(raw) != jtiLen {
				return errClaimsShape
			}
		case "ver":
			if _, err := intValue(dec); err != nil {
				return errClaimsShape
			}
		case "iat":
			v, err := intValue(dec)
			if err != nil {
				return errClaimsShape
			}
			iat = v
		case "exp":
			v, err := intValue(dec)
			if err != nil {
				return errClaimsShape
			}
			exp = v
		default:
			return errClaimsShape
		}
		return nil
	})
	if err != nil || len(seen) != 7 {
		return errClaimsShape
	}
	// We grant exactly the TTL; leeway allows for a TTL changed by a few
	// seconds, nothing like a token that lives for a century.
	if exp-iat > int64((t.ttl+leeway)/time.Second) {
		return errLifetime
	}
	return nil
}

// decodeObject decodes a base64url JSON object and calls field for each
// key, with the decoder positioned at its value; field must consume
// exactly that value. Anything after the object is refused.
func decodeObject(segment string, field func(key string, dec *json.Decoder) error) error {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(segment)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("not a key")
		}
		if err := field(key, dec); err != nil {
			return err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errors.New("unterminated object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

func stringValue(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", errors.New("not a string")
	}
	return s, nil
}

// intValue reads a non-negative integer written as plain digits, as the
// library writes times (whole seconds) and we write ver: no sign,
// fraction or exponent.
func intValue(dec *json.Decoder) (int64, error) {
	tok, err := dec.Token()
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok || strings.ContainsAny(string(n), "-+.eE") {
		return 0, errors.New("not a whole number")
	}
	return strconv.ParseInt(string(n), 10, 63)
}
