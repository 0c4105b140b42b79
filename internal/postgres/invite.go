package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

const inviteColumns = `id, role, created_by, created_at, expires_at, used_at, used_by, revoked_at`

// CreateInvite implements blog.InviteStore.
func (s *Store) CreateInvite(ctx context.Context, n blog.NewInvite) (blog.Invite, error) {
	now := blog.Now()
	if err := n.Validate(now); err != nil {
		return blog.Invite{}, err
	}
	inv := blog.Invite{
		ID:        blog.NewID(),
		Role:      n.Role,
		CreatedBy: n.CreatedBy,
		CreatedAt: now,
		ExpiresAt: n.ExpiresAt.UTC().Truncate(time.Microsecond),
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if n.CreatedBy != "" {
			// Refuse an unknown creator with ENOTFOUND rather than a bare
			// foreign-key failure. FOR KEY SHARE keeps the account until
			// the invite that names it is in.
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR KEY SHARE`, n.CreatedBy).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return blog.ErrUserNotFound
			} else if err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO invites (id, token_hash, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			inv.ID, n.TokenHash, string(inv.Role), nullString(inv.CreatedBy), inv.CreatedAt, inv.ExpiresAt)
		if isUniqueViolation(err) {
			return blog.ErrInviteExists
		}
		return err
	})
	if err != nil {
		return blog.Invite{}, fmt.Errorf("create invite: %w", err)
	}
	return inv, nil
}

// ListInvites implements blog.InviteStore.
func (s *Store) ListInvites(ctx context.Context) ([]blog.Invite, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+inviteColumns+` FROM invites ORDER BY created_at DESC, id DESC LIMIT $1`, blog.MaxListInvites)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", unavailable(err))
	}
	defer rows.Close()
	var invites []blog.Invite
	for rows.Next() {
		var (
			inv               blog.Invite
			role              string
			createdBy, usedBy *string
		)
		if err := rows.Scan(&inv.ID, &role, &createdBy, &inv.CreatedAt, &inv.ExpiresAt, &inv.UsedAt, &usedBy, &inv.RevokedAt); err != nil {
			return nil, fmt.Errorf("list invites: %w", unavailable(err))
		}
		inv.Role = blog.Role(role)
		inv.CreatedBy, inv.UsedBy = deref(createdBy), deref(usedBy)
		inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
		inv.UsedAt, inv.RevokedAt = utcPtr(inv.UsedAt), utcPtr(inv.RevokedAt)
		invites = append(invites, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invites: %w", unavailable(err))
	}
	return invites, nil
}

// RevokeInvite implements blog.InviteStore.
func (s *Store) RevokeInvite(ctx context.Context, id string) error {
	if !blog.ValidID(id) {
		return blog.ErrInviteNotFound
	}
	// One statement: the row is updated only if unused and unrevoked, and
	// the outer SELECT still tells an unknown ID from one left as it was.
	var found bool
	err := s.pool.QueryRow(ctx, `WITH revoked AS (
		UPDATE invites SET revoked_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL RETURNING id
	) SELECT EXISTS (SELECT 1 FROM revoked) OR EXISTS (SELECT 1 FROM invites WHERE id = $1)`, id, blog.Now()).Scan(&found)
	if err != nil {
		return fmt.Errorf("revoke invite: %w", s.wrote(err))
	}
	if !found {
		return blog.ErrInviteNotFound
	}
	return nil
}

// InviteUsable implements blog.InviteStore: one read that takes no lock.
func (s *Store) InviteUsable(ctx context.Context, tokenHash string, now time.Time) error {
	if !blog.ValidInviteTokenHash(tokenHash) {
		return blog.ErrInviteInvalid
	}
	var ok bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM invites WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2)`,
		tokenHash, now).Scan(&ok)
	if err != nil {
		return fmt.Errorf("invite usable: %w", unavailable(err))
	}
	if !ok {
		return blog.ErrInviteInvalid
	}
	return nil
}

// RedeemInvite implements blog.InviteStore. SELECT … FOR UPDATE locks the
// invite: a second redeem waits for the first to commit, then reads the
// invite again (READ COMMITTED re-checks the row) and finds it used.
func (s *Store) RedeemInvite(ctx context.Context, tokenHash string, nu blog.NewUser, now time.Time) (blog.User, error) {
	if !blog.ValidInviteTokenHash(tokenHash) {
		return blog.User{}, blog.ErrInviteInvalid
	}
	var u blog.User
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var id, role string
		err := tx.QueryRow(ctx,
			`SELECT id, role FROM invites WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE`,
			tokenHash, now).Scan(&id, &role)
		if errors.Is(err, pgx.ErrNoRows) {
			return blog.ErrInviteInvalid
		} else if err != nil {
			return err
		}
		nu.Role = blog.Role(role)
		if u, err = insertUser(ctx, tx, nu); err != nil {
			return err // the transaction rolls back: the invite stays unused
		}
		_, err = tx.Exec(ctx, `UPDATE invites SET used_at = $1, used_by = $2 WHERE id = $3`, blog.Now(), u.ID, id)
		return err
	})
	if err != nil {
		return blog.User{}, fmt.Errorf("redeem invite: %w", err)
	}
	return u, nil
}

// nullString stores "" as NULL (a column with a foreign key needs NULL,
// not an empty ID).
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
