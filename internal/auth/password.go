// Package auth holds Palisade's credential primitives: argon2id password
// hashing with a bounded work queue, the embedded common-password list, and
// HS256 access tokens.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// HashParams are argon2id parameters.
type HashParams struct {
	Memory  uint32 // KiB of memory each hash holds
	Time    uint32 // passes over the memory
	Threads uint8  // lanes (parallelism)
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultParams follow OWASP's Password Storage Cheat Sheet (argon2id,
// m=19 MiB, t=2, p=1).
var DefaultParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrBusy means too many password hashes are already running or waiting; the
// caller should answer 503 with Retry-After.
var ErrBusy = errors.New("auth: password hashing busy")

// ErrMalformedHash means an encoded password hash could not be parsed or
// carries parameters outside the accepted bounds.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// Bounds on parameters, both for our own hashes and for hashes read back from
// storage. A stored hash is data, not code: if a row were tampered with, an
// absurd m or t must not let it pin gigabytes or minutes of CPU per sign-in.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 32
	maxThreads   = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
	// maxEncodedLen comfortably exceeds the longest valid encoding (64-byte
	// salt and key, ten-digit parameters) and stops us base64-decoding junk.
	maxEncodedLen = 256
)

const phcPrefix = "$argon2id$v=19$"

// b64 is the PHC string encoding: standard alphabet, no padding. Strict
// rejects non-zero trailing bits so each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// kdfFunc has argon2.IDKey's signature; tests substitute it to count or block
// calls.
type kdfFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Hasher hashes and verifies passwords with argon2id, letting only a bounded
// number of hashes run or wait at once.
type Hasher struct {
	params HashParams

	// admit holds one token per caller that is running or waiting; when it
	// is full, new callers get ErrBusy instead of queueing without limit.
	admit chan struct{}
	// slots holds one token per hash that is running.
	slots chan struct{}

	// dummy is an encoding with h's parameters and a random key, so that
	// VerifyDummy costs the same as Verify yet can never match.
	dummy string

	kdf     kdfFunc
	onQueue func() // test hook: called when a caller starts waiting for a slot
}

// NewHasher returns a Hasher using p. At most maxConcurrent hashes run at once
// (0 or less → runtime.GOMAXPROCS(0)); at most maxWaiting callers wait for a
// slot (0 → 64*maxConcurrent; negative → none wait); beyond that Hash and
// Verify return ErrBusy at once, and waiting also ends with ctx.Err(). This
// bounds CPU and memory (each hash holds p.Memory KiB) under a flood of
// sign-ins.
//
// NewHasher panics if p is outside the bounds Verify accepts, because a
// Hasher that cannot verify its own hashes is a programming error.
func NewHasher(p HashParams, maxConcurrent, maxWaiting int) *Hasher {
	if err := checkParams(p); err != nil {
		panic(fmt.Sprintf("auth: NewHasher: %v", err))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	switch {
	case maxWaiting == 0:
		maxWaiting = 64 * maxConcurrent
	case maxWaiting < 0:
		maxWaiting = 0
	}
	h := &Hasher{
		params: p,
		admit:  make(chan struct{}, maxConcurrent+maxWaiting),
		slots:  make(chan struct{}, maxConcurrent),
		kdf:    argon2.IDKey,
	}
	// A random key in place of a real derived key costs nothing to make and
	// matches a real key only with probability 2^-(8*KeyLen).
	h.dummy = encode(p, randomBytes(p.SaltLen), randomBytes(p.KeyLen))
	return h
}

// Hash derives an argon2id hash of password with a fresh random salt and
// returns it as a PHC string, e.g.
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (base64, standard alphabet,
// unpadded).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := randomBytes(h.params.SaltLen)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := h.derive(password, salt, h.params)
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded. The parameters are taken
// from encoded, within bounds (m ≤ 1 GiB, t ≤ 32, p ≤ 16, sane salt and key
// lengths); anything else yields ErrMalformedHash. A mismatch is (false, nil).
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := h.derive(password, salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the same work as Verify against a hash with h's parameters
// and always reports a mismatch, so that sign-in for an unknown user takes as
// long as for a wrong password. Its only errors are ErrBusy and ctx.Err().
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

// NeedsRehash reports whether encoded was made with parameters weaker than
// h's (less memory, fewer passes, shorter salt or key), so the caller should
// store a fresh hash after the next successful sign-in. An unparseable
// encoding also needs rehashing.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	if err != nil {
		return true
	}
	// Threads are deliberately not compared: the lane count changes how the
	// work is split, not how much of it an attacker must do.
	return p.Memory < h.params.Memory ||
		p.Time < h.params.Time ||
		p.SaltLen < h.params.SaltLen ||
		p.KeyLen < h.params.KeyLen
}

// derive runs the KDF. Passwords are NFKC-normalised first (as NIST SP
// 800-63B suggests) so that the same password typed on keyboards or input
// methods that produce different code points still verifies.
func (h *Hasher) derive(password string, salt []byte, p HashParams) []byte {
	pw := []byte(norm.NFKC.String(password))
	return h.kdf(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// acquire takes a running slot, waiting in a bounded queue if all slots are
// busy. Every successful acquire must be paired with release.
func (h *Hasher) acquire(ctx context.Context) error {
	// Don't queue (or burn CPU) for a caller that has already gone away.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.admit <- struct{}{}:
	default:
		return ErrBusy
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.onQueue != nil {
		h.onQueue()
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		<-h.admit
		return ctx.Err()
	}
}

func (h *Hasher) release() {
	<-h.slots
	<-h.admit
}

func encode(p HashParams, salt, key []byte) string {
	return fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s", phcPrefix, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC argon2id string. It is strict (fixed field order,
// canonical numbers and base64) because a hash has one legitimate producer:
// this package.
func decode(encoded string) (HashParams, []byte, []byte, error) {
	var p HashParams
	if len(encoded) > maxEncodedLen {
		return p, nil, nil, fmt.Errorf("%w: too long", ErrMalformedHash)
	}
	rest, ok := strings.CutPrefix(encoded, phcPrefix)
	if !ok {
		return p, nil, nil, fmt.Errorf("%w: not argon2id v=19", ErrMalformedHash)
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return p, nil, nil, fmt.Errorf("%w: want params$salt$key", ErrMalformedHash)
	}
	kv := strings.Split(fields[0], ",")
	if len(kv) != 3 {
		return p, nil, nil, fmt.Errorf("%w: want m,t,p", ErrMalformedHash)
	}
	m, err1 := parseParam(kv[0], "m=")
	t, err2 := parseParam(kv[1], "t=")
	th, err3 := parseParam(kv[2], "p=")
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	if th > maxThreads {
		return p, nil, nil, fmt.Errorf("%w: p out of range", ErrMalformedHash)
	}
	salt, err := b64.DecodeString(fields[1])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: bad salt encoding", ErrMalformedHash)
	}
	key, err := b64.DecodeString(fields[2])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: bad key encoding", ErrMalformedHash)
	}
	p = HashParams{
		Memory:  m,
		Time:    t,
		Threads: uint8(th),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := checkParams(p); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseParam parses "name=digits" with no sign, no leading zeros and no
// overflow beyond uint32.
func parseParam(s, name string) (uint32, error) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, fmt.Errorf("bad %q parameter", strings.TrimSuffix(name, "="))
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad %q parameter", strings.TrimSuffix(name, "="))
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad %q parameter", strings.TrimSuffix(name, "="))
	}
	return uint32(n), nil
}

// checkParams enforces the bounds shared by NewHasher and decode.
func checkParams(p HashParams) error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("threads %d out of range [1, %d]", p.Threads, maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range [1, %d]", p.Time, maxTime)
	// argon2 needs at least 8 KiB per lane; below that the library would
	// silently raise m, and the encoded m would not describe the work done.
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB out of range [%d, %d]", p.Memory, 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// randomBytes returns n bytes from crypto/rand, which never fails on
// supported platforms (it aborts the program rather than return weak bytes).
func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
