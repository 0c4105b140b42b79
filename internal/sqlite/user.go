package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/palisade-blog/palisade/internal/blog"
)

const userColumns = `id, username, role, disabled, token_version, created_at, totp_enabled`

// CreateUser implements blog.UserStore.
func (s *Store) CreateUser(ctx context.Context, nu blog.NewUser) (blog.User, error) {
	u, err := insertUser(ctx, s.write, nu)
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
	row := reads{s}.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	u, _, err := scanUser(row, false)
	if err != nil {
		return blog.User{}, fmt.Errorf("user by id: %w", err)
	}
	return u, nil
}

// UserByUsername implements blog.UserStore.
func (s *Store) UserByUsername(ctx context.Context, username string) (blog.User, error) {
	row := reads{s}.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = ?`, blog.UsernameKey(username))
	u, _, err := scanUser(row, false)
	if err != nil {
		return blog.User{}, fmt.Errorf("user by username: %w", err)
	}
	return u, nil
}

// Credentials implements blog.UserStore.
func (s *Store) Credentials(ctx context.Context, username string) (blog.User, string, error) {
	row := reads{s}.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE username_key = ?`, blog.UsernameKey(username))
	u, hash, err := scanUser(row, true)
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
	res, err := s.write.ExecContext(ctx,
		`UPDATE users SET password_hash = ?, token_version = token_version + ? WHERE id = ?`, hash, bump, userID)
	return checkUpdated(res, s.wrote(err), "set password hash")
}

// SetRole implements blog.UserStore; see admin.go for the last-admin
// guard.
func (s *Store) SetRole(ctx context.Context, userID string, role blog.Role) error {
	if err := role.Validate(); err != nil {
		return err
	}
	return s.changeUser(ctx, userID, role != blog.RoleAdmin, "set role",
		`UPDATE users SET role = ? WHERE id = ?`, string(role), userID)
}

// DisableUser implements blog.UserStore; see admin.go for the last-admin
// guard.
func (s *Store) DisableUser(ctx context.Context, userID string) error {
	return s.changeUser(ctx, userID, true, "disable user",
		`UPDATE users SET disabled = 1, token_version = token_version + 1 WHERE id = ?`, userID)
}

func checkUpdated(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return blog.ErrUserNotFound
	}
	return nil
}

func scanUser(row scanner, withHash bool) (blog.User, string, error) {
	var (
		u        blog.User
		role     string
		disabled int
		created  int64
		totp     int
		hash     string
	)
	dest := []any{&u.ID, &u.Username, &role, &disabled, &u.TokenVersion, &created, &totp}
	if withHash {
		dest = append(dest, &hash)
	}
	if err := row.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return blog.User{}, "", blog.ErrUserNotFound
	} else if err != nil {
		return blog.User{}, "", err
	}
	u.Role = blog.Role(role)
	u.Disabled = disabled != 0
	u.TOTP = totp != 0
	u.CreatedAt = time.UnixMicro(created).UTC()
	return u, hash, nil
}

// isUniqueViolation reports a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
