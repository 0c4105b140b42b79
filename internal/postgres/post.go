package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

const postSelect = `SELECT p.id, p.title, p.content, p.content_html, p.created_at, p.updated_at, u.id, u.username, p.status, p.published_at
FROM posts p JOIN users u ON u.id = p.author_id`

func scanPost(row pgx.Row) (blog.Post, error) {
	var (
		p         blog.Post
		published *time.Time
	)
	if err := row.Scan(&p.ID, &p.Title, &p.Content, &p.ContentHTML, &p.CreatedAt, &p.UpdatedAt, &p.Author.ID, &p.Author.Username, &p.Status, &published); err != nil {
		return blog.Post{}, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if published != nil {
		p.PublishedAt = blog.NullTime{Time: published.UTC()}
	}
	return p, nil
}

// CreatePost implements blog.PostStore.
func (s *Store) CreatePost(ctx context.Context, np blog.NewPost) (blog.Post, error) {
	if err := np.Validate(); err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	now := blog.Now()
	p := np.Post(blog.NewID(), blog.Author{}, now)
	// One statement: the insert happens only if the author exists, and
	// returns the author's name for the response.
	err := s.pool.QueryRow(ctx, `
		INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at, status, published_at)
		SELECT $1, u.id, $3, $4, $5, $6, $6, $7, $8 FROM users u WHERE u.id = $2
		RETURNING author_id, (SELECT username FROM users WHERE id = $2)`,
		p.ID, np.AuthorID, p.Title, p.Content, p.ContentHTML, now, p.Status, p.PublishedAt.Ptr()).Scan(&p.Author.ID, &p.Author.Username)
	if errors.Is(err, pgx.ErrNoRows) {
		return blog.Post{}, blog.ErrAuthorNotFound
	}
	if err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", unavailable(err))
	}
	return p, nil
}

// PostByID implements blog.PostStore.
func (s *Store) PostByID(ctx context.Context, id string) (blog.Post, error) {
	p, err := postByID(ctx, s.pool, id, false)
	if err != nil {
		return blog.Post{}, fmt.Errorf("post by id: %w", err)
	}
	return p, nil
}

// querier is what the pool and a transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func postByID(ctx context.Context, q querier, id string, forUpdate bool) (blog.Post, error) {
	if !blog.ValidID(id) {
		return blog.Post{}, blog.ErrPostNotFound
	}
	query := postSelect + ` WHERE p.id = $1`
	if forUpdate {
		// Lock the row so a concurrent edit or delete waits for this one.
		query += ` FOR UPDATE OF p`
	}
	p, err := scanPost(q.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return blog.Post{}, blog.ErrPostNotFound
	}
	return p, unavailable(err)
}

// ListPosts implements blog.PostStore.
func (s *Store) ListPosts(ctx context.Context, page blog.Page) ([]blog.Post, *blog.Cursor, error) {
	limit := page.Size()
	var (
		rows pgx.Rows
		err  error
	)
	if page.AuthorID != "" && !blog.ValidID(page.AuthorID) {
		return []blog.Post{}, nil, nil
	}
	// The status is written into the query, not bound, so the planner
	// sees at plan time that the partial index posts_published applies
	// (a bound $n in a generic plan would hide it). It is one of two
	// constants, never the client's text.
	where := ` WHERE p.status = 'published'`
	if page.ListStatus() == blog.StatusDraft {
		where = ` WHERE p.status = 'draft'`
	}
	var args []any
	if page.AuthorID != "" {
		args = append(args, page.AuthorID)
		where += fmt.Sprintf(` AND p.author_id = $%d`, len(args))
	}
	if page.After != nil {
		args = append(args, page.After.CreatedAt, page.After.ID)
		where += fmt.Sprintf(` AND (p.created_at, p.id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	// One more row than asked tells whether a next page exists without a
	// COUNT(*).
	args = append(args, limit+1)
	rows, err = s.pool.Query(ctx, postSelect+where+fmt.Sprintf(` ORDER BY p.created_at DESC, p.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", unavailable(err))
	}
	posts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (blog.Post, error) { return scanPost(r) })
	if err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", unavailable(err))
	}
	if len(posts) > limit {
		posts = posts[:limit]
		return posts, blog.CursorAfter(posts[limit-1]), nil
	}
	return posts, nil, nil
}

// UpdatePost implements blog.PostStore.
func (s *Store) UpdatePost(ctx context.Context, actor blog.User, id string, u blog.PostUpdate) (blog.Post, error) {
	if err := u.Validate(); err != nil {
		return blog.Post{}, fmt.Errorf("update post: %w", err)
	}
	var p blog.Post
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var err error
		if p, err = editablePost(ctx, tx, actor, id); err != nil {
			return err
		}
		p.Apply(u, blog.Now())
		_, err = tx.Exec(ctx, `UPDATE posts SET title = $1, content = $2, content_html = $3, updated_at = $4, status = $5, published_at = $6 WHERE id = $7`,
			p.Title, p.Content, p.ContentHTML, p.UpdatedAt, p.Status, p.PublishedAt.Ptr(), p.ID)
		return err
	})
	if err != nil {
		return blog.Post{}, fmt.Errorf("update post: %w", err)
	}
	return p, nil
}

// DeletePost implements blog.PostStore.
func (s *Store) DeletePost(ctx context.Context, actor blog.User, id string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := editablePost(ctx, tx, actor, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM posts WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete post: %w", err)
	}
	return nil
}

// editablePost loads and locks the post inside tx and checks that actor
// may change it.
func editablePost(ctx context.Context, tx pgx.Tx, actor blog.User, id string) (blog.Post, error) {
	p, err := postByID(ctx, tx, id, true)
	if err != nil {
		return blog.Post{}, err
	}
	if err := blog.CheckCanEdit(actor, p); err != nil {
		return blog.Post{}, err
	}
	return p, nil
}
