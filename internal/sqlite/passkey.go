package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/palisade-blog/palisade/internal/blog"
)

const passkeyColumns = `id, user_id, name, public_key, attestation_type, aaguid, transports,
	sign_count, backup_eligible, backup_state, created_at, last_used_at`

// AddPasskey implements blog.PasskeyStore. The count, the insert and the
// token version change share one BEGIN IMMEDIATE transaction, so two
// additions racing for an account's last free place can't both succeed;
// the primary key refuses a credential ID any account has.
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
	transports, err := encodeTransports(p.Transports)
	if err != nil {
		return fmt.Errorf("add passkey: %w", err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM passkeys WHERE user_id = users.id) FROM users WHERE id = ?`, p.UserID).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return blog.ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if n >= blog.MaxPasskeys {
			return blog.ErrTooManyPasskeys
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.UserID, p.Name, p.PublicKey, p.AttestationType, nilIfEmpty(p.AAGUID), transports,
			int64(p.SignCount), p.BackupEligible, p.BackupState, p.CreatedAt.UnixMicro(), microsOrNull(p.LastUsedAt))
		if isKeyViolation(err) {
			return blog.ErrPasskeyExists
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = ?`, p.UserID)
		return err
	})
	return wrapFactor("add passkey", err)
}

// isKeyViolation reports the primary key or a unique index refusing a
// row (a NOT NULL or CHECK failure is a bug, not a duplicate).
func isKeyViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// Passkeys implements blog.PasskeyStore. The user row is joined so that an
// account with no passkey (one row of NULLs) is told apart from no
// account (no row), in one read.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]blog.Passkey, error) {
	if !blog.ValidID(userID) {
		return nil, blog.ErrUserNotFound
	}
	rows, err := s.query(ctx, `SELECT p.id, p.user_id, p.name, p.public_key, p.attestation_type, p.aaguid, p.transports,
		p.sign_count, p.backup_eligible, p.backup_state, p.created_at, p.last_used_at
		FROM users u LEFT JOIN passkeys p ON p.user_id = u.id WHERE u.id = ?
		ORDER BY p.created_at, p.rowid`, userID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only; rows.Err reports a failed read
	var (
		keys []blog.Passkey
		seen bool
	)
	for rows.Next() {
		seen = true
		var id sql.NullString
		p, err := scanPasskey(rows, &id)
		if err != nil {
			return nil, fmt.Errorf("passkeys: %w", err)
		}
		if id.Valid {
			keys = append(keys, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	if !seen {
		return nil, blog.ErrUserNotFound
	}
	return keys, nil
}

// PasskeyByID implements blog.PasskeyStore.
func (s *Store) PasskeyByID(ctx context.Context, id string) (blog.Passkey, error) {
	var got sql.NullString
	p, err := scanPasskey(reads{s}.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = ?`, id), &got)
	if errors.Is(err, sql.ErrNoRows) {
		return blog.Passkey{}, blog.ErrPasskeyNotFound
	}
	if err != nil {
		return blog.Passkey{}, fmt.Errorf("passkey by id: %w", err)
	}
	return p, nil
}

// scanPasskey reads one row of passkeyColumns into a Passkey; id receives
// the credential ID, NULL for the LEFT JOIN's empty account.
func scanPasskey(row scanner, id *sql.NullString) (blog.Passkey, error) {
	var (
		p                    blog.Passkey
		userID, name, attest sql.NullString
		transports           sql.NullString
		count, created, used sql.NullInt64
		eligible, backedUp   sql.NullBool
		publicKey, aaguid    []byte
	)
	if err := row.Scan(id, &userID, &name, &publicKey, &attest, &aaguid, &transports,
		&count, &eligible, &backedUp, &created, &used); err != nil {
		return blog.Passkey{}, err
	}
	if !id.Valid {
		return blog.Passkey{}, nil
	}
	p.ID, p.UserID, p.Name, p.AttestationType = id.String, userID.String, name.String, attest.String
	p.PublicKey, p.AAGUID = publicKey, aaguid
	p.SignCount = uint32(count.Int64)
	p.BackupEligible, p.BackupState = eligible.Bool, backedUp.Bool
	p.CreatedAt = time.UnixMicro(created.Int64).UTC()
	if used.Valid {
		p.LastUsedAt = time.UnixMicro(used.Int64).UTC()
	}
	if transports.Valid {
		if err := json.Unmarshal([]byte(transports.String), &p.Transports); err != nil {
			return blog.Passkey{}, errors.New("unreadable transports")
		}
	}
	return p, nil
}

// UsePasskey implements blog.PasskeyStore. The counter rule is part of
// the UPDATE, so of two sign-ins presenting the same counter value only
// one moves it.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = ?1, backup_state = ?2, last_used_at = ?3
			WHERE id = ?4 AND (sign_count < ?1 OR (sign_count = 0 AND ?1 = 0))`,
			int64(signCount), backupState, at.UTC().Truncate(time.Microsecond).UnixMicro(), id)
		if changed, err := oneRow(res, err); err != nil || changed {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM passkeys WHERE id = ?)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return blog.ErrPasskeyNotFound
		}
		return blog.ErrPasskeyCounter
	})
	return wrapFactor("use passkey", err)
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
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
		if changed, err := oneRow(res, err); err != nil || changed {
			return err
		}
		return passkeyMissing(ctx, tx, userID)
	})
	return wrapFactor("rename passkey", err)
}

// DeletePasskey implements blog.PasskeyStore: the delete and the token
// version change in one transaction.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID)
		changed, err := oneRow(res, err)
		if err != nil {
			return err
		}
		if !changed {
			return passkeyMissing(ctx, tx, userID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = ?`, userID)
		return err
	})
	return wrapFactor("delete passkey", err)
}

// oneRow reports whether a write changed a row.
func oneRow(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// passkeyMissing says why a write to the account's passkey changed
// nothing: no such account, or no such passkey of the account's.
func passkeyMissing(ctx context.Context, tx *sql.Tx, userID string) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, userID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return blog.ErrUserNotFound
	}
	return blog.ErrPasskeyNotFound
}

// encodeTransports keeps nil (the authenticator said nothing) apart from
// an empty list: NULL for the one, "[]" for the other.
func encodeTransports(t []string) (any, error) {
	if t == nil {
		return nil, nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// nilIfEmpty stores an absent AAGUID as NULL.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// microsOrNull stores a zero time as NULL (never used).
func microsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().UnixMicro()
}
