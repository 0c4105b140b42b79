package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

// skeletonBatch bounds the rows read at once while filling in skeletons.
const skeletonBatch = 500

// fillSkeletons computes the username skeleton of every user stored without
// one (accounts from before look-alikes were refused), oldest first, and
// returns how many could not be given theirs because an older account
// already has the same skeleton. Those look-alike pairs predate the rule:
// both accounts keep working, and the older one's skeleton still blocks
// any new look-alike. Each update is its own statement, since a unique
// violation aborts a whole transaction here; the unique index makes this
// safe from several processes at once.
func fillSkeletons(ctx context.Context, conn *pgx.Conn) (int, error) {
	type row struct {
		id, username string
		created      time.Time
	}
	after := row{created: time.Unix(0, 0)}
	conflicts := 0
	for {
		rows, err := conn.Query(ctx, `SELECT id, username, created_at FROM users
			WHERE username_skeleton IS NULL AND (created_at, id) > ($1, $2)
			ORDER BY created_at, id LIMIT $3`, after.created, after.id, skeletonBatch)
		if err != nil {
			return conflicts, fmt.Errorf("fill username skeletons: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.username, &x.created)
			return x, err
		})
		if err != nil {
			return conflicts, fmt.Errorf("fill username skeletons: %w", err)
		}
		for _, r := range batch {
			_, err := conn.Exec(ctx, `UPDATE users SET username_skeleton = $1 WHERE id = $2 AND username_skeleton IS NULL`,
				blog.UsernameSkeleton(r.username), r.id)
			if isUniqueViolation(err) {
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
		after = batch[len(batch)-1]
	}
}
