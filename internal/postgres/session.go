package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FindSession implements blog.SessionStore.
func (s *Store) FindSession(ctx context.Context, key string) ([]byte, bool, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM sessions WHERE key = $1 AND expiry > now()`, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", unavailable(err))
	}
	return data, true, nil
}

// TakeSession implements blog.SessionStore: one DELETE … RETURNING; a
// concurrent take waits on the row lock and then finds it gone.
func (s *Store) TakeSession(ctx context.Context, key string) ([]byte, bool, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `DELETE FROM sessions WHERE key = $1 AND expiry > now() RETURNING data`, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("take session: %w", s.wrote(err))
	}
	return data, true, nil
}

// SaveSession implements blog.SessionStore.
func (s *Store) SaveSession(ctx context.Context, key string, data []byte, expiry time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (key, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, key, data, expiry)
	if err != nil {
		return fmt.Errorf("save session: %w", s.wrote(err))
	}
	return nil
}

// DeleteSession implements blog.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE key = $1`, key); err != nil {
		return fmt.Errorf("delete session: %w", s.wrote(err))
	}
	return nil
}

// PruneSessions implements blog.SessionStore.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expiry <= $1`, now); err != nil {
		return fmt.Errorf("prune sessions: %w", s.wrote(err))
	}
	return nil
}
