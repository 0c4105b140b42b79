package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/palisade-blog/palisade/internal/blog"
)

const userColumns = `id, username, role, disabled, token_version, created_at, totp_enabled`

// CreateUser implements blog.UserStore.
func (s *Store) CreateUser(ctx context.Context, nu blog.NewUser) (blog.User, error) {
	u, err := insertUser(ctx, s.pool, nu)
	if err := s.wrote(err); err != nil {
		return blog.User{}, err
	}
	return u, nil
}

// UserByID implements blog.UserStore.
func (s *Store) UserByID(ctx context.Context, id string) (blog.User, error) {
	if !blog.ValidID(id) {
		return blog.User{}, blog.ErrUserNotFound
	}
	u, _, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id), false)
	if err != nil {
		return blog.User{}, fmt.Errorf("user by id: %w", err)
	}
	return u, nil
}

// UserByUsername implements blog.UserStore.
func (s *Store) UserByUsername(ctx context.Context, username string) (blog.User, error) {
	u, _, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = $1`, blog.UsernameKey(username)), false)
	if err != nil {
		return blog.User{}, fmt.Errorf("user by username: %w", err)
	}
	return u, nil
}

// Credentials implements blog.UserStore.
func (s *Store) Credentials(ctx context.Context, username string) (blog.User, string, error) {
	u, hash, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE username_key = $1`, blog.UsernameKey(username)), true)
	if err != nil {
		return blog.User{}, "", fmt.Errorf("credentials: %w", err)
	}
	return u, hash, nil
}

// SetPasswordHash implements blog.UserStore.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string, change blog.PasswordChange) error {
	bump, err := change.TokenVersionBump()
	if err != nil {
		return fmt.Errorf("set password hash: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET password_hash = $1, token_version = token_version + $2 WHERE id = $3`, hash, bump, userID)
	return checkUpdated(tag, s.wrote(err), "set password hash")
}

// SetRole implements blog.UserStore; see admin.go for the last-admin
// guard.
func (s *Store) SetRole(ctx context.Context, userID string, role blog.Role) error {
	if err := role.Validate(); err != nil {
		return err
	}
	return s.changeUser(ctx, userID, role != blog.RoleAdmin, "set role",
		`UPDATE users SET role = $1 WHERE id = $2`, string(role), userID)
}

// DisableUser implements blog.UserStore; see admin.go for the last-admin
// guard.
func (s *Store) DisableUser(ctx context.Context, userID string) error {
	return s.changeUser(ctx, userID, true, "disable user",
		`UPDATE users SET disabled = true, token_version = token_version + 1 WHERE id = $1`, userID)
}

func checkUpdated(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, unavailable(err))
	}
	if tag.RowsAffected() == 0 {
		return blog.ErrUserNotFound
	}
	return nil
}

func scanUser(row pgx.Row, withHash bool) (blog.User, string, error) {
	var (
		u    blog.User
		role string
		hash string
	)
	dest := []any{&u.ID, &u.Username, &role, &u.Disabled, &u.TokenVersion, &u.CreatedAt, &u.TOTP}
	if withHash {
		dest = append(dest, &hash)
	}
	if err := row.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return blog.User{}, "", blog.ErrUserNotFound
	} else if err != nil {
		return blog.User{}, "", unavailable(err)
	}
	u.Role = blog.Role(role)
	u.CreatedAt = u.CreatedAt.UTC()
	return u, hash, nil
}
