package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/palisade-blog/palisade/internal/blog"
)

// enabledAdmin is the condition on users that makes an account count as
// an admin for the last-admin guard and the first-admin claim.
const enabledAdmin = `role = 'admin' AND disabled = 0`

// changeUser runs one UPDATE of the user (query, with args) in a write
// transaction. If removesAdmin, the change could take away an admin (a
// demotion, disabling), and it is refused with ErrLastAdmin when the user
// is the only enabled admin. The writer's transactions start with BEGIN
// IMMEDIATE, which takes SQLite's write lock before the count: no other
// writer, in this process or another, can change the admins between the
// check and the update.
func (s *Store) changeUser(ctx context.Context, userID string, removesAdmin bool, what, query string, args ...any) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if removesAdmin {
			var others, self int
			err := tx.QueryRowContext(ctx, `SELECT
				count(*) FILTER (WHERE id <> ?),
				count(*) FILTER (WHERE id = ?)
				FROM users WHERE `+enabledAdmin, userID, userID).Scan(&others, &self)
			if err != nil {
				return fmt.Errorf("%s: count admins: %w", what, err)
			}
			if self == 1 && others == 0 {
				return blog.ErrLastAdmin
			}
		}
		res, err := tx.ExecContext(ctx, query, args...)
		return checkUpdated(res, err, what)
	})
}

// EnableUser implements blog.UserStore.
func (s *Store) EnableUser(ctx context.Context, userID string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET disabled = 0 WHERE id = ?`, userID)
	return checkUpdated(res, s.wrote(err), "enable user")
}

// ListUsers implements blog.UserStore.
func (s *Store) ListUsers(ctx context.Context) ([]blog.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username_key LIMIT ?`, blog.MaxListUsers)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only; rows.Err reports a failed read
	var users []blog.User
	for rows.Next() {
		u, _, err := scanUser(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// HasAdmin implements blog.UserStore.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var ok bool
	if err := (reads{s}).QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+enabledAdmin+`)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("has admin: %w", err)
	}
	return ok, nil
}

// CreateFirstAdmin implements blog.UserStore. The check and the insert
// share one BEGIN IMMEDIATE transaction, so of two claims (from any
// number of processes) the second sees the first one's admin.
func (s *Store) CreateFirstAdmin(ctx context.Context, nu blog.NewUser) (blog.User, error) {
	nu.Role = blog.RoleAdmin
	var u blog.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE `+enabledAdmin).Scan(&n); err != nil {
			return fmt.Errorf("count admins: %w", err)
		}
		if n > 0 {
			return blog.ErrAdminExists
		}
		var err error
		u, err = insertUser(ctx, tx, nu)
		return err
	})
	if err != nil {
		return blog.User{}, fmt.Errorf("create first admin: %w", err)
	}
	return u, nil
}

// execer is what *sql.DB and *sql.Tx have in common for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertUser inserts a new account through db (the write pool for
// CreateUser, a transaction for an invite or the first admin), mapping a
// unique violation (the same name in any case, or a look-alike of one) to
// ErrUsernameTaken.
func insertUser(ctx context.Context, db execer, nu blog.NewUser) (blog.User, error) {
	if err := nu.Role.Validate(); err != nil {
		return blog.User{}, err
	}
	u := blog.User{ID: blog.NewID(), Username: nu.Username, Role: nu.Role, CreatedAt: blog.Now()}
	_, err := db.ExecContext(ctx,
		`INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, blog.UsernameKey(u.Username), blog.UsernameSkeleton(u.Username), nu.PasswordHash, string(u.Role), u.CreatedAt.UnixMicro())
	if isUniqueViolation(err) {
		return blog.User{}, blog.ErrUsernameTaken
	}
	if err != nil {
		return blog.User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}
