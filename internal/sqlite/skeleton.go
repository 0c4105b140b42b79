package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/palisade-blog/palisade/internal/blog"
)

// skeletonBatch bounds the rows read at once while filling in skeletons.
const skeletonBatch = 500

// fillSkeletons computes the username skeleton of every user stored without
// one (accounts from before look-alikes were refused), oldest first, and
// returns how many could not be given theirs because an older account
// already has the same skeleton. Those look-alike pairs predate the rule:
// both accounts keep working, and the older one's skeleton still blocks
// any new look-alike. Safe to run from several processes at once.
func fillSkeletons(ctx context.Context, db *sql.DB) (int, error) {
	type row struct {
		id, username string
		created      int64
	}
	var (
		after     row
		conflicts int
	)
	for {
		// Read the batch before writing: the writer pool has one
		// connection, which an open result set would hold.
		rows, err := db.QueryContext(ctx, `SELECT id, username, created_at FROM users
			WHERE username_skeleton IS NULL AND (created_at, id) > (?, ?)
			ORDER BY created_at, id LIMIT ?`, after.created, after.id, skeletonBatch)
		if err != nil {
			return conflicts, fmt.Errorf("fill username skeletons: %w", err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.username, &r.created); err != nil {
				_ = rows.Close() // the scan error is the one to report
				return conflicts, fmt.Errorf("fill username skeletons: %w", err)
			}
			batch = append(batch, r)
		}
		if err := rows.Close(); err != nil {
			return conflicts, fmt.Errorf("fill username skeletons: %w", err)
		}
		if err := rows.Err(); err != nil {
			return conflicts, fmt.Errorf("fill username skeletons: %w", err)
		}
		for _, r := range batch {
			_, err := db.ExecContext(ctx, `UPDATE users SET username_skeleton = ? WHERE id = ? AND username_skeleton IS NULL`,
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
