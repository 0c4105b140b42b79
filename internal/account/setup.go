package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// SetupLifetime is how long a setup link works after serve prints it
// (serve's console line says "within an hour").
const SetupLifetime = time.Hour

// Setup is the one-time link that claims a fresh instance: while no admin
// exists, serve prints BASE_URL/setup?token=… once on the console, and
// whoever opens it first makes the first admin account. It is the console
// that proves ownership, so the link must not be guessable (256 random
// bits), must not outlive its purpose (one use, one hour) and must not be
// kept anywhere it could be read back: only its SHA-256 is held, in this
// process's memory, so each instance has its own link and a restart makes
// a new one.
type Setup struct {
	hash    [sha256.Size]byte
	expires time.Time

	mu    sync.Mutex
	state setupState
}

type setupState int

const (
	setupReady setupState = iota
	setupInUse            // a claim with it is being made
	setupSpent
)

// NewSetup makes a setup link's token, valid until now+SetupLifetime. The
// token (base64url, 43 characters) goes in the printed link and nowhere
// else.
func NewSetup(now time.Time) (*Setup, string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	return &Setup{hash: sha256.Sum256([]byte(token)), expires: now.Add(SetupLifetime)}, token
}

// matches compares in constant time: a comparison that stopped at the
// first wrong byte would let the token be found one byte at a time. The
// hashes are compared, so the length of what was sent tells nothing.
func (s *Setup) matches(token string, now time.Time) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], s.hash[:]) == 1 && now.Before(s.expires)
}

// usable reports whether token is this link's, unexpired and not used.
func (s *Setup) usable(token string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == setupReady && s.matches(token, now)
}

// take reserves the link for one claim, so that a second claim with the
// same token waits for no race in the store: it is refused at once.
func (s *Setup) take(token string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != setupReady || !s.matches(token, now) {
		return false
	}
	s.state = setupInUse
	return true
}

// finish ends a claim: spent when an account was made (or can no longer
// be), ready again when the form only needs correcting.
func (s *Setup) finish(spent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spent {
		s.state = setupSpent
	} else {
		s.state = setupReady
	}
}

// Answers of the setup page. Once an admin exists the page does not exist
// for anyone; before, a wrong, used or expired link is refused.
var (
	ErrSetupGone    = blog.Errorf(blog.ENOTFOUND, "Not found")
	ErrSetupInvalid = blog.Errorf(blog.EFORBIDDEN, "This setup link is invalid, used or expired. Restart the server to print a new one, or run palisade user create NAME --admin")
)

// CheckSetup says whether token opens the setup page now: nil, ErrSetupGone
// once an admin exists (or when this instance has no link), or
// ErrSetupInvalid.
func (s *Service) CheckSetup(ctx context.Context, token string) error {
	if err := s.setupOpen(ctx); err != nil {
		return err
	}
	if !s.Setup.usable(token, s.now()) {
		return ErrSetupInvalid
	}
	return nil
}

// setupOpen returns ErrSetupGone unless the instance can still be claimed.
func (s *Service) setupOpen(ctx context.Context) error {
	if s.Setup == nil {
		return ErrSetupGone
	}
	has, err := s.Store.HasAdmin(ctx)
	if err != nil {
		return err
	}
	if has {
		return ErrSetupGone
	}
	return nil
}

// Claim makes the instance's first admin with the setup link's token.
// The store checks that no admin exists and creates this one in one step,
// so of two claims at once (with one link, or the links of two instances)
// exactly one succeeds. The link is spent by the claim that made the
// account, or by one that found an admin already there; a claim refused
// for its username or password leaves it usable. Returns ErrSetupGone,
// ErrSetupInvalid, a *blog.ValidationError, ErrUsernameTaken, or
// auth.ErrBusy.
func (s *Service) Claim(ctx context.Context, token string, reg blog.Registration) (blog.User, error) {
	if err := s.setupOpen(ctx); err != nil {
		return blog.User{}, err
	}
	if !s.Setup.take(token, s.now()) {
		logging.Security(ctx, s.Log, "setup.refused")
		return blog.User{}, ErrSetupInvalid
	}
	spent := false
	defer func() { s.Setup.finish(spent) }()
	if err := reg.Clean(auth.IsCommonPassword); err != nil {
		return blog.User{}, err
	}
	hash, err := s.Hasher.Hash(ctx, reg.Password)
	if err != nil {
		return blog.User{}, err
	}
	u, err := s.Store.CreateFirstAdmin(ctx, blog.NewUser{Username: reg.Username, PasswordHash: hash, Role: blog.RoleAdmin})
	if errors.Is(err, blog.ErrAdminExists) {
		spent = true // another instance's link won: this one has nothing left to do
		return blog.User{}, ErrSetupGone
	}
	if err != nil {
		return blog.User{}, err
	}
	spent = true
	logging.SetUser(ctx, u.ID)
	logging.Audit(ctx, s.Log, "instance.claimed")
	return u, nil
}
