package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// skeletonFiller is blog.SkeletonFiller on a SQLite database, for
// blog.FillSkeletons at start-up.
type skeletonFiller struct{ db *sql.DB }

// UsersWithoutSkeleton implements blog.SkeletonFiller. It reads the whole
// batch before returning: the writer pool has one connection, which an
// open result set would hold while SetSkeleton waits for it.
func (f skeletonFiller) UsersWithoutSkeleton(ctx context.Context, after blog.Cursor, limit int) ([]blog.UnskeletonedUser, error) {
	rows, err := f.db.QueryContext(ctx, `SELECT id, username, created_at FROM users
		WHERE username_skeleton IS NULL AND (created_at, id) > (?, ?)
		ORDER BY created_at, id LIMIT ?`, after.CreatedAt.UnixMicro(), after.ID, limit)
	if err != nil {
		return nil, err
	}
	var batch []blog.UnskeletonedUser
	for rows.Next() {
		var (
			u       blog.UnskeletonedUser
			created int64
		)
		if err := rows.Scan(&u.ID, &u.Username, &created); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return nil, err
		}
		u.CreatedAt = time.UnixMicro(created).UTC()
		batch = append(batch, u)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return batch, rows.Err()
}

// SetSkeleton implements blog.SkeletonFiller.
func (f skeletonFiller) SetSkeleton(ctx context.Context, userID, skeleton string) error {
	_, err := f.db.ExecContext(ctx, `UPDATE users SET username_skeleton = ? WHERE id = ? AND username_skeleton IS NULL`, skeleton, userID)
	if isUniqueViolation(err) {
		return blog.ErrUsernameTaken
	}
	return err
}
