package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

const postSelect = `SELECT p.id, p.title, p.content, p.content_html, p.created_at, p.updated_at, u.id, u.username, p.status, p.published_at
FROM posts p JOIN users u ON u.id = p.author_id`

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

func scanPost(row scanner) (blog.Post, error) {
	var (
		p                blog.Post
		created, updated int64
		published        sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.Title, &p.Content, &p.ContentHTML, &created, &updated, &p.Author.ID, &p.Author.Username, &p.Status, &published)
	if err != nil {
		return blog.Post{}, err
	}
	p.CreatedAt = time.UnixMicro(created).UTC()
	p.UpdatedAt = time.UnixMicro(updated).UTC()
	if published.Valid {
		p.PublishedAt = blog.NullTime{Time: time.UnixMicro(published.Int64).UTC()}
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
	// CreatePost is the hottest write: its statements are prepared once.
	author, err := s.writeStmt(ctx, `SELECT id, username FROM users WHERE id = ?`)
	if err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	insert, err := s.writeStmt(ctx, `INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at, status, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		// Reading the author in the transaction both fills in the username
		// and refuses a missing author with ENOTFOUND rather than a bare
		// foreign-key failure.
		err := tx.StmtContext(ctx, author).QueryRowContext(ctx, np.AuthorID).Scan(&p.Author.ID, &p.Author.Username)
		if errors.Is(err, sql.ErrNoRows) {
			return blog.ErrAuthorNotFound
		} else if err != nil {
			return err
		}
		_, err = tx.StmtContext(ctx, insert).ExecContext(ctx,
			p.ID, p.Author.ID, p.Title, p.Content, p.ContentHTML, now.UnixMicro(), now.UnixMicro(), p.Status, unixMicros(p.PublishedAt))
		return err
	})
	if err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	return p, nil
}

// PostByID implements blog.PostStore.
func (s *Store) PostByID(ctx context.Context, id string) (blog.Post, error) {
	p, err := postByID(ctx, reads{s}, id)
	if err != nil {
		return blog.Post{}, fmt.Errorf("post by id: %w", err)
	}
	return p, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func postByID(ctx context.Context, q querier, id string) (blog.Post, error) {
	if !blog.ValidID(id) {
		return blog.Post{}, blog.ErrPostNotFound
	}
	p, err := scanPost(q.QueryRowContext(ctx, postSelect+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return blog.Post{}, blog.ErrPostNotFound
	}
	return p, err
}

// ListPosts implements blog.PostStore.
func (s *Store) ListPosts(ctx context.Context, page blog.Page) ([]blog.Post, *blog.Cursor, error) {
	limit := page.Size()
	var (
		rows *sql.Rows
		err  error
	)
	if page.AuthorID != "" && !blog.ValidID(page.AuthorID) {
		return []blog.Post{}, nil, nil
	}
	// The status is written into the query, not bound: SQLite uses the
	// partial index posts_published only for a literal status =
	// 'published'. It is one of two constants, never the client's text.
	where := ` WHERE p.status = 'published'`
	if page.ListStatus() == blog.StatusDraft {
		where = ` WHERE p.status = 'draft'`
	}
	var args []any
	if page.AuthorID != "" {
		where += ` AND p.author_id = ?`
		args = append(args, page.AuthorID)
	}
	if page.After != nil {
		where += ` AND (p.created_at, p.id) < (?, ?)`
		args = append(args, page.After.CreatedAt.UnixMicro(), page.After.ID)
	}
	// One more row than asked tells whether a next page exists without a
	// COUNT(*).
	rows, err = s.query(ctx, postSelect+where+` ORDER BY p.created_at DESC, p.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only; rows.Err below reports what went wrong
	posts := make([]blog.Post, 0, limit+1)
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("list posts: %w", err)
		}
		posts = append(posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", err)
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
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if p, err = editablePost(ctx, tx, actor, id); err != nil {
			return err
		}
		p.Apply(u, blog.Now())
		_, err = tx.ExecContext(ctx, `UPDATE posts SET title = ?, content = ?, content_html = ?, updated_at = ?, status = ?, published_at = ? WHERE id = ?`,
			p.Title, p.Content, p.ContentHTML, p.UpdatedAt.UnixMicro(), p.Status, unixMicros(p.PublishedAt), p.ID)
		return err
	})
	if err != nil {
		return blog.Post{}, fmt.Errorf("update post: %w", err)
	}
	return p, nil
}

// DeletePost implements blog.PostStore.
func (s *Store) DeletePost(ctx context.Context, actor blog.User, id string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := editablePost(ctx, tx, actor, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete post: %w", err)
	}
	return nil
}

// editablePost loads the post inside tx and checks that actor may change it.
func editablePost(ctx context.Context, tx *sql.Tx, actor blog.User, id string) (blog.Post, error) {
	p, err := postByID(ctx, tx, id)
	if err != nil {
		return blog.Post{}, err
	}
	if err := blog.CheckCanEdit(actor, p); err != nil {
		return blog.Post{}, err
	}
	return p, nil
}

// unixMicros returns t as Unix microseconds, or nil (NULL) for no time.
func unixMicros(t blog.NullTime) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
