package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Every check-and-change below runs in one write transaction (BEGIN
// IMMEDIATE on the single writer connection, see withTx), or is one
// statement, so no other writer in any process comes between the check
// and the change.

// TwoFactor implements blog.TwoFactorStore. One statement reads the user
// row and its codes, so they come from the same snapshot.
func (s *Store) TwoFactor(ctx context.Context, userID string) (blog.TwoFactor, error) {
	if !blog.ValidID(userID) {
		return blog.TwoFactor{}, blog.ErrUserNotFound
	}
	var (
		f       blog.TwoFactor
		enabled int
		codes   string
	)
	err := reads{s}.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled, totp_last_step,
		(SELECT json_group_array(hash) FROM recovery_codes WHERE user_id = users.id)
		FROM users WHERE id = ?`, userID).Scan(&f.TOTPSecret, &enabled, &f.TOTPLastStep, &codes)
	if errors.Is(err, sql.ErrNoRows) {
		return blog.TwoFactor{}, blog.ErrUserNotFound
	}
	if err != nil {
		return blog.TwoFactor{}, fmt.Errorf("two factor: %w", err)
	}
	f.TOTPEnabled = enabled != 0
	if err := json.Unmarshal([]byte(codes), &f.RecoveryCodes); err != nil {
		return blog.TwoFactor{}, errors.New("two factor: unreadable recovery codes") // not the codes themselves
	}
	if len(f.RecoveryCodes) == 0 {
		f.RecoveryCodes = nil
	}
	return f, nil
}

// totpState reads what the checks need, inside tx: the stored secret and
// whether it is on. ENOTFOUND for an unknown user.
func totpState(ctx context.Context, tx *sql.Tx, userID string) (secret string, enabled bool, err error) {
	var on int
	err = tx.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled FROM users WHERE id = ?`, userID).Scan(&secret, &on)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, blog.ErrUserNotFound
	}
	if err != nil {
		return "", false, err
	}
	return secret, on != 0, nil
}

// BeginTOTP implements blog.TwoFactorStore.
func (s *Store) BeginTOTP(ctx context.Context, userID, sealed string) error {
	if sealed == "" {
		return errors.New("begin totp: empty secret")
	}
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, enabled, err := totpState(ctx, tx, userID)
		if err != nil {
			return err
		}
		if enabled {
			return blog.ErrTOTPEnabled
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?`, sealed, userID)
		return err
	})
	return wrapFactor("begin totp", err)
}

// EnableTOTP implements blog.TwoFactorStore: the check of the pending
// secret, the flag, the last step, the codes and the token version change
// in one transaction.
func (s *Store) EnableTOTP(ctx context.Context, userID, sealed string, step int64, recoveryHashes []string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		secret, enabled, err := totpState(ctx, tx, userID)
		if err != nil {
			return err
		}
		if enabled {
			return blog.ErrTOTPEnabled
		}
		if secret == "" || secret != sealed {
			return blog.ErrNoPendingTOTP
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_enabled = 1, totp_last_step = ?, token_version = token_version + 1 WHERE id = ?`, step, userID); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, recoveryHashes)
	})
	return wrapFactor("enable totp", err)
}

// replaceCodes deletes the user's recovery codes and inserts hashes,
// inside tx. A hash given twice is kept once.
func replaceCodes(ctx context.Context, tx *sql.Tx, userID string, hashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseTOTPStep implements blog.TwoFactorStore. The condition on the last
// step is part of the UPDATE, so of two requests with the same code the
// second finds the step already recorded.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_enabled = 1 AND totp_last_step < ?`, step, userID, step)
		return usedOrMissing(ctx, tx, res, err, userID)
	})
	return wrapFactor("use totp step", err)
}

// UseRecoveryCode implements blog.TwoFactorStore: the DELETE is the
// check, so a code is used once however many requests race for it.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?`, userID, hash)
		return usedOrMissing(ctx, tx, res, err, userID)
	})
	return wrapFactor("use recovery code", err)
}

// usedOrMissing turns a write that changed no row into ErrCodeUsed, or
// ENOTFOUND when the user does not exist.
func usedOrMissing(ctx context.Context, tx *sql.Tx, res sql.Result, err error, userID string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, _, err := totpState(ctx, tx, userID); err != nil {
		return err
	}
	return blog.ErrCodeUsed
}

// ReplaceRecoveryCodes implements blog.TwoFactorStore.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, enabled, err := totpState(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !enabled {
			return blog.ErrTOTPOff
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = ?`, userID); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, hashes)
	})
	return wrapFactor("replace recovery codes", err)
}

// DisableTOTP implements blog.TwoFactorStore. Only turning off a factor
// that was on bumps the token version: dropping an unconfirmed enrolment
// changes nothing about how the account signs in.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		secret, enabled, err := totpState(ctx, tx, userID)
		if err != nil {
			return err
		}
		if secret == "" && !enabled {
			return nil
		}
		bump := 0
		if enabled {
			bump = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_enabled = 0, totp_last_step = 0, token_version = token_version + ? WHERE id = ?`, bump, userID); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, nil)
	})
	return wrapFactor("disable totp", err)
}

// ResealTOTP implements blog.TwoFactorStore: a compare-and-swap on the
// stored secret.
func (s *Store) ResealTOTP(ctx context.Context, userID, old, new string) error {
	if old == "" || new == "" {
		return errors.New("reseal totp: empty secret")
	}
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, _, err := totpState(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = ? WHERE id = ? AND totp_secret = ?`, new, userID, old)
		return err
	})
	return wrapFactor("reseal totp", err)
}

// TOTPUsers implements blog.TwoFactorStore.
func (s *Store) TOTPUsers(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM users WHERE totp_secret <> '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("totp users: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only; rows.Err reports a failed read
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("totp users: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("totp users: %w", err)
	}
	return ids, nil
}

// wrapFactor says what failed. (No error here carries a secret or a
// hash: a statement's arguments are never part of its error.)
func wrapFactor(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
