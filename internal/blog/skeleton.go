package blog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// UnskeletonedUser is an account stored without its UsernameSkeleton: it
// was registered before look-alike usernames were refused.
type UnskeletonedUser struct {
	ID        string
	Username  string
	CreatedAt time.Time
}

// SkeletonFiller is what FillSkeletons needs from a store.
type SkeletonFiller interface {
	// UsersWithoutSkeleton returns up to limit accounts stored without a
	// skeleton, ordered by (CreatedAt, ID), strictly after (after.CreatedAt,
	// after.ID).
	UsersWithoutSkeleton(ctx context.Context, after Cursor, limit int) ([]UnskeletonedUser, error)
	// SetSkeleton stores skeleton for the account if it still has none.
	// Returns ErrUsernameTaken (possibly wrapped) if another account has
	// that skeleton: the store's unique index decides, so several
	// processes may fill at once.
	SetSkeleton(ctx context.Context, userID, skeleton string) error
}

// skeletonBatch bounds the accounts read at once while filling skeletons.
const skeletonBatch = 500

// FillSkeletons gives every account stored without a username skeleton
// its UsernameSkeleton, oldest account first, and returns how many could
// not be given theirs because an older account already has the same
// skeleton. Those look-alike pairs predate the rule: both accounts keep
// working, and the older one's skeleton still blocks any new look-alike,
// so they must not stop the server from starting.
func FillSkeletons(ctx context.Context, s SkeletonFiller) (int, error) {
	// No account is older than the Unix epoch (they are made with Now).
	after := Cursor{CreatedAt: time.Unix(0, 0).UTC()}
	conflicts := 0
	for {
		batch, err := s.UsersWithoutSkeleton(ctx, after, skeletonBatch)
		if err != nil {
			return conflicts, fmt.Errorf("fill username skeletons: %w", err)
		}
		for _, u := range batch {
			err := s.SetSkeleton(ctx, u.ID, UsernameSkeleton(u.Username))
			if errors.Is(err, ErrUsernameTaken) {
				conflicts++
				continue
			}
			if err != nil {
				return conflicts, fmt.Errorf("fill username skeletons: %w", err)
			}
		}
		if len(batch) < skeletonBatch {
			return conflicts, nil
		}
		last := batch[len(batch)-1]
		after = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}
