package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/palisade-blog/palisade/internal/blog"
)

// adminsLock is the transaction-level advisory lock key held by every
// change that could take away the last admin or relies on there being
// none (a demotion, disabling, the first-admin claim). Under READ
// COMMITTED two such transactions would each count the admins before the
// other's change; holding the lock, each counts after the last one
// committed. Changes that only add admins need no lock: they can't make
// a count too high. (Any constant distinct from migrationLock works.)
const adminsLock = 0x70616c2d61646d6e // "pal-admn"

// enabledAdmin is the condition on users that makes an account count as
// an admin for the last-admin guard and the first-admin claim.
const enabledAdmin = `role = 'admin' AND NOT disabled`

// changeUser runs one UPDATE of the user (query, with args) in a
// transaction. If removesAdmin, the change could take away an admin (a
// demotion, disabling), and it is refused with ErrLastAdmin when the user
// is the only enabled admin, counted under adminsLock.
func (s *Store) changeUser(ctx context.Context, userID string, removesAdmin bool, what, query string, args ...any) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	return s.withTx(ctx, func(tx pgx.Tx) error {
		if removesAdmin {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(adminsLock)); err != nil {
				return fmt.Errorf("%s: lock: %w", what, unavailable(err))
			}
			var others, self int
			err := tx.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE id <> $1),
				count(*) FILTER (WHERE id = $1)
				FROM users WHERE `+enabledAdmin, userID).Scan(&others, &self)
			if err != nil {
				return fmt.Errorf("%s: count admins: %w", what, unavailable(err))
			}
			if self == 1 && others == 0 {
				return blog.ErrLastAdmin
			}
		}
		tag, err := tx.Exec(ctx, query, args...)
		return checkUpdated(tag, err, what)
	})
}

// EnableUser implements blog.UserStore.
func (s *Store) EnableUser(ctx context.Context, userID string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET disabled = false WHERE id = $1`, userID)
	return checkUpdated(tag, s.wrote(err), "enable user")
}

// ListUsers implements blog.UserStore.
func (s *Store) ListUsers(ctx context.Context) ([]blog.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username_key LIMIT $1`, blog.MaxListUsers)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", unavailable(err))
	}
	defer rows.Close()
	var users []blog.User
	for rows.Next() {
		u, _, err := scanUser(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", unavailable(err))
	}
	return users, nil
}

// HasAdmin implements blog.UserStore.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+enabledAdmin+`)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("has admin: %w", unavailable(err))
	}
	return ok, nil
}

// CreateFirstAdmin implements blog.UserStore. The count and the insert
// run under adminsLock, so of two claims, from any instances, the second
// counts the first one's admin.
func (s *Store) CreateFirstAdmin(ctx context.Context, nu blog.NewUser) (blog.User, error) {
	nu.Role = blog.RoleAdmin
	var u blog.User
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(adminsLock)); err != nil {
			return fmt.Errorf("lock: %w", unavailable(err))
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+enabledAdmin+`)`).Scan(&exists); err != nil {
			return fmt.Errorf("count admins: %w", unavailable(err))
		}
		if exists {
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

// execer is what the pool and a transaction have in common for writes.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertUser inserts a new account through db (the pool for CreateUser, a
// transaction for an invite or the first admin), mapping a unique
// violation (the same name in any case, or a look-alike of one) to
// ErrUsernameTaken.
func insertUser(ctx context.Context, db execer, nu blog.NewUser) (blog.User, error) {
	if err := nu.Role.Validate(); err != nil {
		return blog.User{}, err
	}
	u := blog.User{ID: blog.NewID(), Username: nu.Username, Role: nu.Role, CreatedAt: blog.Now()}
	_, err := db.Exec(ctx,
		`INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Username, blog.UsernameKey(u.Username), blog.UsernameSkeleton(u.Username), nu.PasswordHash, string(u.Role), u.CreatedAt)
	if isUniqueViolation(err) {
		return blog.User{}, blog.ErrUsernameTaken
	}
	if err != nil {
		return blog.User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}
