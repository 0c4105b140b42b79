package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

const postSelect = `SELECT p.id, p.title, p.content, p.content_html, p.created_at, p.updated_at, u.id, u.username
FROM posts p JOIN users u ON u.id = p.author_id`

func scanPost(row pgx.Row) (blog.Post, error) {
	var p blog.Post
	if err := row.Scan(&p.ID, &p.Title, &p.Content, &p.ContentHTML, &p.CreatedAt, &p.UpdatedAt, &p.Author.ID, &p.Author.Username); err != nil {
		return blog.Post{}, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// CreatePost implements blog.PostStore.
func (s *Store) CreatePost(ctx context.Context, np blog.NewPost) (blog.Post, error) {
	if err := np.Validate(); err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	now := blog.Now()
	p := blog.Post{ID: blog.NewID(), Title: np.Title, Content: np.Content, ContentHTML: np.ContentHTML, CreatedAt: now, UpdatedAt: now}
	// One statement: the insert happens only if the author exists, and
	// returns the author's name for the response.
	err := s.pool.QueryRow(ctx, `
		INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at)
		SELECT $1, u.id, $3, $4, $5, $6, $6 FROM users u WHERE u.id = $2
		RETURNING author_id, (SELECT username FROM users WHERE id = $2)`,
		p.ID, np.AuthorID, p.Title, p.Content, p.ContentHTML, now).Scan(&p.Author.ID, &p.Author.Username)
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
	// One more row than asked tells whether a next page exists without a
	// COUNT(*).
	if page.After == nil {
		rows, err = s.pool.Query(ctx, postSelect+` ORDER BY p.created_at DESC, p.id DESC LIMIT $1`, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, postSelect+` WHERE (p.created_at, p.id) < ($1, $2) ORDER BY p.created_at DESC, p.id DESC LIMIT $3`,
			page.After.CreatedAt, page.After.ID, limit+1)
	}
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
		_, err = tx.Exec(ctx, `UPDATE posts SET title = $1, content = $2, content_html = $3, updated_at = $4 WHERE id = $5`,
			p.Title, p.Content, p.ContentHTML, p.UpdatedAt, p.ID)
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
