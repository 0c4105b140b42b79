package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// errPasskeysNotYet stands in until passkeys are stored here (an internal
// error: no caller can mistake it for a missing passkey).
var errPasskeysNotYet = errors.New("passkeys: not implemented yet")

// AddPasskey implements blog.PasskeyStore.
func (s *Store) AddPasskey(ctx context.Context, p blog.Passkey) error { return errPasskeysNotYet }

// Passkeys implements blog.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]blog.Passkey, error) {
	return nil, errPasskeysNotYet
}

// PasskeyByID implements blog.PasskeyStore.
func (s *Store) PasskeyByID(ctx context.Context, id string) (blog.Passkey, error) {
	return blog.Passkey{}, errPasskeysNotYet
}

// UsePasskey implements blog.PasskeyStore.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	return errPasskeysNotYet
}

// RenamePasskey implements blog.PasskeyStore.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	return errPasskeysNotYet
}

// DeletePasskey implements blog.PasskeyStore.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error { return errPasskeysNotYet }
