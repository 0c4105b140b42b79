package sqlite

import (
	"context"
	"fmt"
	"time"
)

// RevokeToken implements blog.RevocationStore.
func (s *Store) RevokeToken(ctx context.Context, tokenID string, expiresAt time.Time) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO revoked_tokens (token_id, expires_at) VALUES (?, ?) ON CONFLICT (token_id) DO NOTHING`,
		tokenID, expiresAt.UnixMicro())
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// ClaimToken implements blog.RevocationStore: the insert does nothing if
// the ID is there, and only the one that inserted sees a row affected.
// SQLite writes one at a time, so two claims can't both insert.
func (s *Store) ClaimToken(ctx context.Context, tokenID string, expiresAt time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx,
		`INSERT INTO revoked_tokens (token_id, expires_at) VALUES (?, ?) ON CONFLICT (token_id) DO NOTHING`,
		tokenID, expiresAt.UnixMicro())
	if err := s.wrote(err); err != nil {
		return false, fmt.Errorf("claim token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim token: %w", err)
	}
	return n == 1, nil
}

// TokenRevoked implements blog.RevocationStore.
func (s *Store) TokenRevoked(ctx context.Context, tokenID string) (bool, error) {
	var n int
	err := reads{s}.QueryRowContext(ctx, `SELECT count(*) FROM revoked_tokens WHERE token_id = ?`, tokenID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("token revoked: %w", err)
	}
	return n > 0, nil
}

// PruneRevocations implements blog.RevocationStore.
func (s *Store) PruneRevocations(ctx context.Context, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM revoked_tokens WHERE expires_at < ?`, now.UnixMicro())
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("prune revocations: %w", err)
	}
	return nil
}
