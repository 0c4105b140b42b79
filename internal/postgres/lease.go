package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// TryLease implements blog.LeaseStore. One statement takes a free lease
// (the insert), an expired or our own one (the update, whose WHERE leaves
// another holder's live lease alone); PostgreSQL's row lock on conflict
// makes two holders' statements run one after the other. Expiry is by the
// database's clock, so instances' clocks need not agree.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if err := blog.ValidLease(name, holder, ttl); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO leases (name, holder, until) VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		 WHERE leases.until <= now() OR leases.holder = excluded.holder`,
		name, holder, ttl.Microseconds())
	if err != nil {
		return false, fmt.Errorf("take lease: %w", s.wrote(err))
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease implements blog.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease: %w", s.wrote(err))
	}
	return nil
}
