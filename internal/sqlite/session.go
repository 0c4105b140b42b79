package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FindSession implements blog.SessionStore.
func (s *Store) FindSession(ctx context.Context, key string) ([]byte, bool, error) {
	var data []byte
	err := reads{s}.QueryRowContext(ctx, `SELECT data FROM sessions WHERE key = ? AND expiry > ?`, key, time.Now().UnixMicro()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return data, true, nil
}

// TakeSession implements blog.SessionStore: one DELETE … RETURNING, so
// of two concurrent takes only the one whose DELETE found the row gets it.
func (s *Store) TakeSession(ctx context.Context, key string) ([]byte, bool, error) {
	var data []byte
	err := s.write.QueryRowContext(ctx, `DELETE FROM sessions WHERE key = ? AND expiry > ? RETURNING data`,
		key, time.Now().UnixMicro()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err := s.wrote(err); err != nil {
		return nil, false, fmt.Errorf("take session: %w", err)
	}
	return data, true, nil
}

// SaveSession implements blog.SessionStore.
func (s *Store) SaveSession(ctx context.Context, key string, data []byte, expiry time.Time) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO sessions (key, data, expiry) VALUES (?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		key, data, expiry.UnixMicro())
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// DeleteSession implements blog.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, key string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE key = ?`, key)
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// PruneSessions implements blog.SessionStore.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, now.UnixMicro())
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	return nil
}
