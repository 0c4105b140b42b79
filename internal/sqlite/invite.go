package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if n.CreatedBy != "" {
			// Refuse an unknown creator with ENOTFOUND rather than a bare
			// foreign-key failure.
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = ?`, n.CreatedBy).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return blog.ErrUserNotFound
			} else if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO invites (id, token_hash, role, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			inv.ID, n.TokenHash, string(inv.Role), nullString(inv.CreatedBy), inv.CreatedAt.UnixMicro(), inv.ExpiresAt.UnixMicro())
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invites ORDER BY created_at DESC, id DESC LIMIT ?`, blog.MaxListInvites)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only; rows.Err reports a failed read
	var invites []blog.Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("list invites: %w", err)
		}
		invites = append(invites, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return invites, nil
}

// RevokeInvite implements blog.InviteStore.
func (s *Store) RevokeInvite(ctx context.Context, id string) error {
	if !blog.ValidID(id) {
		return blog.ErrInviteNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var used, revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT used_at, revoked_at FROM invites WHERE id = ?`, id).Scan(&used, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return blog.ErrInviteNotFound
		} else if err != nil {
			return err
		}
		if used.Valid || revoked.Valid {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE invites SET revoked_at = ? WHERE id = ?`, blog.Now().UnixMicro(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	}
	return nil
}

// InviteUsable implements blog.InviteStore, on the read pool: it never
// waits for the writer.
func (s *Store) InviteUsable(ctx context.Context, tokenHash string, now time.Time) error {
	if !blog.ValidInviteTokenHash(tokenHash) {
		return blog.ErrInviteInvalid
	}
	var ok bool
	err := reads{s}.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM invites WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?)`,
		tokenHash, now.UnixMicro()).Scan(&ok)
	if err != nil {
		return fmt.Errorf("invite usable: %w", err)
	}
	if !ok {
		return blog.ErrInviteInvalid
	}
	return nil
}

// RedeemInvite implements blog.InviteStore. The check, the new account and
// the mark share one BEGIN IMMEDIATE transaction: a second redeem waits
// for the first and then finds the invite used.
func (s *Store) RedeemInvite(ctx context.Context, tokenHash string, nu blog.NewUser, now time.Time) (blog.User, error) {
	if !blog.ValidInviteTokenHash(tokenHash) {
		return blog.User{}, blog.ErrInviteInvalid
	}
	var u blog.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var id, role string
		err := tx.QueryRowContext(ctx,
			`SELECT id, role FROM invites WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
			tokenHash, now.UnixMicro()).Scan(&id, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return blog.ErrInviteInvalid
		} else if err != nil {
			return err
		}
		nu.Role = blog.Role(role)
		if u, err = insertUser(ctx, tx, nu); err != nil {
			return err // the transaction rolls back: the invite stays unused
		}
		_, err = tx.ExecContext(ctx, `UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?`, blog.Now().UnixMicro(), u.ID, id)
		return err
	})
	if err != nil {
		return blog.User{}, fmt.Errorf("redeem invite: %w", err)
	}
	return u, nil
}

func scanInvite(row scanner) (blog.Invite, error) {
	var (
		inv               blog.Invite
		role              string
		createdBy, usedBy sql.NullString
		created, expires  int64
		usedAt, revokedAt sql.NullInt64
	)
	if err := row.Scan(&inv.ID, &role, &createdBy, &created, &expires, &usedAt, &usedBy, &revokedAt); err != nil {
		return blog.Invite{}, err
	}
	inv.Role = blog.Role(role)
	inv.CreatedBy = createdBy.String
	inv.UsedBy = usedBy.String
	inv.CreatedAt = time.UnixMicro(created).UTC()
	inv.ExpiresAt = time.UnixMicro(expires).UTC()
	inv.UsedAt = microsPtr(usedAt)
	inv.RevokedAt = microsPtr(revokedAt)
	return inv, nil
}

func microsPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

// nullString stores "" as NULL (a column with a foreign key needs NULL,
// not an empty ID).
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
