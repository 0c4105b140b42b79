package postgres

import (
	"context"
	"errors"

	"github.com/palisade-blog/palisade/internal/blog"
)

// errNotYet is what the second-factor methods answer until this store
// implements them (an internal error: nothing here claims to work yet).
var errNotYet = errors.New("postgres: two-factor sign-in is not implemented yet")

// TwoFactor implements blog.TwoFactorStore (not yet).
func (s *Store) TwoFactor(ctx context.Context, userID string) (blog.TwoFactor, error) {
	return blog.TwoFactor{}, errNotYet
}

// BeginTOTP implements blog.TwoFactorStore (not yet).
func (s *Store) BeginTOTP(ctx context.Context, userID, sealed string) error { return errNotYet }

// EnableTOTP implements blog.TwoFactorStore (not yet).
func (s *Store) EnableTOTP(ctx context.Context, userID, sealed string, step int64, recoveryHashes []string) error {
	return errNotYet
}

// UseTOTPStep implements blog.TwoFactorStore (not yet).
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error { return errNotYet }

// UseRecoveryCode implements blog.TwoFactorStore (not yet).
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error { return errNotYet }

// ReplaceRecoveryCodes implements blog.TwoFactorStore (not yet).
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return errNotYet
}

// DisableTOTP implements blog.TwoFactorStore (not yet).
func (s *Store) DisableTOTP(ctx context.Context, userID string) error { return errNotYet }

// ResealTOTP implements blog.TwoFactorStore (not yet).
func (s *Store) ResealTOTP(ctx context.Context, userID, old, new string) error { return errNotYet }

// TOTPUsers implements blog.TwoFactorStore (not yet).
func (s *Store) TOTPUsers(ctx context.Context) ([]string, error) { return nil, errNotYet }
