package postgres

import (
	"context"
	"fmt"
	"time"
)

// RevokeToken implements blog.RevocationStore.
func (s *Store) RevokeToken(ctx context.Context, tokenID string, expiresAt time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO revoked_tokens (token_id, expires_at) VALUES ($1, $2) ON CONFLICT (token_id) DO NOTHING`, tokenID, expiresAt)
	if err != nil {
		return fmt.Errorf("revoke token: %w", s.wrote(err))
	}
	return nil
}

// ClaimToken implements blog.RevocationStore: of concurrent inserts of one
// ID, the unique key lets one insert and the others do nothing, and only
// the first sees a row affected.
func (s *Store) ClaimToken(ctx context.Context, tokenID string, expiresAt time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO revoked_tokens (token_id, expires_at) VALUES ($1, $2) ON CONFLICT (token_id) DO NOTHING`, tokenID, expiresAt)
	if err != nil {
		return false, fmt.Errorf("claim token: %w", s.wrote(err))
	}
	return tag.RowsAffected() == 1, nil
}

// TokenRevoked implements blog.RevocationStore.
func (s *Store) TokenRevoked(ctx context.Context, tokenID string) (bool, error) {
	var revoked bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $1)`, tokenID).Scan(&revoked); err != nil {
		return false, fmt.Errorf("token revoked: %w", unavailable(err))
	}
	return revoked, nil
}

// PruneRevocations implements blog.RevocationStore.
func (s *Store) PruneRevocations(ctx context.Context, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM revoked_tokens WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("prune revocations: %w", s.wrote(err))
	}
	return nil
}
