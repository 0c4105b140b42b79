package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// TryLease implements blog.LeaseStore. One statement takes a free lease
// (the insert), an expired or our own one (the update, whose WHERE leaves
// another holder's live lease alone); the writer runs one at a time, so
// two holders never both see it free.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if err := blog.ValidLease(name, holder, ttl); err != nil {
		return false, err
	}
	now := time.Now()
	res, err := s.write.ExecContext(ctx,
		`INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		 WHERE leases.until <= ? OR leases.holder = excluded.holder`,
		name, holder, now.Add(ttl).UnixMicro(), now.UnixMicro())
	if err := s.wrote(err); err != nil {
		return false, fmt.Errorf("take lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take lease: %w", err)
	}
	return n == 1, nil
}

// ReleaseLease implements blog.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}
