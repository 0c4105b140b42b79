package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

// skeletonFiller is blog.SkeletonFiller on a PostgreSQL connection, for
// blog.FillSkeletons after the migrations. Each update is its own
// statement, since a unique violation aborts a whole transaction here.
type skeletonFiller struct{ conn *pgx.Conn }

// UsersWithoutSkeleton implements blog.SkeletonFiller.
func (f skeletonFiller) UsersWithoutSkeleton(ctx context.Context, after blog.Cursor, limit int) ([]blog.UnskeletonedUser, error) {
	rows, err := f.conn.Query(ctx, `SELECT id, username, created_at FROM users
		WHERE username_skeleton IS NULL AND (created_at, id) > ($1, $2)
		ORDER BY created_at, id LIMIT $3`, after.CreatedAt, after.ID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (blog.UnskeletonedUser, error) {
		var (
			u       blog.UnskeletonedUser
			created time.Time
		)
		err := r.Scan(&u.ID, &u.Username, &created)
		u.CreatedAt = created.UTC()
		return u, err
	})
}

// SetSkeleton implements blog.SkeletonFiller.
func (f skeletonFiller) SetSkeleton(ctx context.Context, userID, skeleton string) error {
	_, err := f.conn.Exec(ctx, `UPDATE users SET username_skeleton = $1 WHERE id = $2 AND username_skeleton IS NULL`, skeleton, userID)
	if isUniqueViolation(err) {
		return blog.ErrUsernameTaken
	}
	return err
}
