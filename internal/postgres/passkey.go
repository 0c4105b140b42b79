package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Passkeys. AddPasskey counts while holding the account's row lock; every
// other change is one statement whose WHERE decides it (under READ
// COMMITTED an UPDATE that waited for a concurrent one checks its WHERE
// again on the row as that one left it).

const passkeyColumns = `id, user_id, name, public_key, attestation_type, aaguid, transports,
	sign_count, backup_eligible, backup_state, created_at, last_used_at`

// AddPasskey implements blog.PasskeyStore. Locking the user's row first
// makes concurrent additions to one account take turns, so two can't
// both see the last free place; the primary key refuses a credential ID
// any account has.
func (s *Store) AddPasskey(ctx context.Context, p blog.Passkey) error {
	if !blog.ValidPasskeyName(p.Name) {
		return blog.ErrInvalidPasskeyName
	}
	if p.ID == "" || len(p.PublicKey) == 0 {
		return errors.New("add passkey: no credential ID or public key")
	}
	if !blog.ValidID(p.UserID) {
		return blog.ErrUserNotFound
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = blog.Now()
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var locked string
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, p.UserID).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return blog.ErrUserNotFound
		}
		if err != nil {
			return err
		}
		// Counted in a statement of its own, once the lock is granted:
		// under READ COMMITTED each statement reads a new snapshot, so
		// this one sees what the previous holder committed.
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM passkeys WHERE user_id = $1`, p.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= blog.MaxPasskeys {
			return blog.ErrTooManyPasskeys
		}
		_, err = tx.Exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			p.ID, p.UserID, p.Name, p.PublicKey, p.AttestationType, nilIfEmpty(p.AAGUID), p.Transports,
			int64(p.SignCount), p.BackupEligible, p.BackupState, p.CreatedAt.UTC(), timeOrNull(p.LastUsedAt))
		if isUniqueViolation(err) {
			return blog.ErrPasskeyExists
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = $1`, p.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("add passkey: %w", err)
	}
	return nil
}

// Passkeys implements blog.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]blog.Passkey, error) {
	if !blog.ValidID(userID) {
		return nil, blog.ErrUserNotFound
	}
	rows, err := s.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1 ORDER BY created_at, seq`, userID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", unavailable(err))
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (blog.Passkey, error) { return scanPasskey(row) })
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", unavailable(err))
	}
	if len(keys) > 0 {
		return keys, nil
	}
	// None: is there an account? (Accounts are never deleted, so the
	// answer can't change between the two reads.)
	if err := s.userExists(ctx, userID); err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return nil, nil
}

// PasskeyByID implements blog.PasskeyStore.
func (s *Store) PasskeyByID(ctx context.Context, id string) (blog.Passkey, error) {
	p, err := scanPasskey(s.pool.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return blog.Passkey{}, blog.ErrPasskeyNotFound
	}
	if err != nil {
		return blog.Passkey{}, fmt.Errorf("passkey by id: %w", unavailable(err))
	}
	return p, nil
}

// scanPasskey reads one row of passkeyColumns.
func scanPasskey(row pgx.Row) (blog.Passkey, error) {
	var (
		p     blog.Passkey
		count int64
		used  *time.Time
	)
	if err := row.Scan(&p.ID, &p.UserID, &p.Name, &p.PublicKey, &p.AttestationType, &p.AAGUID, &p.Transports,
		&count, &p.BackupEligible, &p.BackupState, &p.CreatedAt, &used); err != nil {
		return blog.Passkey{}, err
	}
	p.SignCount = uint32(count)
	p.CreatedAt = p.CreatedAt.UTC()
	if used != nil {
		p.LastUsedAt = used.UTC()
	}
	return p, nil
}

// UsePasskey implements blog.PasskeyStore. The counter rule is part of
// the UPDATE, so of two sign-ins presenting the same counter value the
// second, having waited for the first's row lock, finds it moved.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE passkeys SET sign_count = $1, backup_state = $2, last_used_at = $3
		WHERE id = $4 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`,
		int64(signCount), backupState, at.UTC().Truncate(time.Microsecond), id)
	if err != nil {
		return fmt.Errorf("use passkey: %w", s.wrote(err))
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM passkeys WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("use passkey: %w", unavailable(err))
	}
	if !exists {
		return blog.ErrPasskeyNotFound
	}
	return blog.ErrPasskeyCounter
}

// RenamePasskey implements blog.PasskeyStore. The account is part of the
// WHERE, so another account's passkey is not found rather than renamed.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	if !blog.ValidPasskeyName(name) {
		return blog.ErrInvalidPasskeyName
	}
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3`, name, id, userID)
	if err != nil {
		return fmt.Errorf("rename passkey: %w", s.wrote(err))
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	return s.passkeyMissing(ctx, userID, "rename passkey")
}

// DeletePasskey implements blog.PasskeyStore: the delete and the token
// version change in one transaction.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	deleted := false
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		deleted = true
		_, err = tx.Exec(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = $1`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	if !deleted {
		return s.passkeyMissing(ctx, userID, "delete passkey")
	}
	return nil
}

// passkeyMissing says why a write to the account's passkey changed
// nothing: no such account, or no such passkey of the account's.
func (s *Store) passkeyMissing(ctx context.Context, userID, what string) error {
	if err := s.userExists(ctx, userID); err != nil {
		if blog.ErrorCode(err) == blog.ENOTFOUND {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return blog.ErrPasskeyNotFound
}

// userExists returns nil if the account exists, ErrUserNotFound if not.
func (s *Store) userExists(ctx context.Context, userID string) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&exists); err != nil {
		return unavailable(err)
	}
	if !exists {
		return blog.ErrUserNotFound
	}
	return nil
}

// nilIfEmpty stores an absent AAGUID as NULL.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// timeOrNull stores a zero time as NULL (never used).
func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
