package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Second factors. A check that decides a change either is part of the
// change's own statement (UseTOTPStep, UseRecoveryCode, ResealTOTP: under
// READ COMMITTED an UPDATE or DELETE that waited for a concurrent one
// checks its WHERE again on the row as that one left it), or runs in a
// transaction that first locks the user's row (SELECT ... FOR UPDATE), so
// no other change to the account comes between the check and the change.

// TwoFactor implements blog.TwoFactorStore. One statement reads the row
// and its codes, so they come from the same snapshot.
func (s *Store) TwoFactor(ctx context.Context, userID string) (blog.TwoFactor, error) {
	if !blog.ValidID(userID) {
		return blog.TwoFactor{}, blog.ErrUserNotFound
	}
	var f blog.TwoFactor
	err := s.pool.QueryRow(ctx, `SELECT totp_secret, totp_enabled, totp_last_step,
		ARRAY(SELECT hash FROM recovery_codes WHERE user_id = users.id)
		FROM users WHERE id = $1`, userID).Scan(&f.TOTPSecret, &f.TOTPEnabled, &f.TOTPLastStep, &f.RecoveryCodes)
	if errors.Is(err, pgx.ErrNoRows) {
		return blog.TwoFactor{}, blog.ErrUserNotFound
	}
	if err != nil {
		return blog.TwoFactor{}, fmt.Errorf("two factor: %w", unavailable(err))
	}
	if len(f.RecoveryCodes) == 0 {
		f.RecoveryCodes = nil
	}
	return f, nil
}

// lockTOTP locks the user's row for the rest of tx and returns its stored
// secret and whether it is on. ENOTFOUND for an unknown user.
func lockTOTP(ctx context.Context, tx pgx.Tx, userID string) (secret string, enabled bool, err error) {
	err = tx.QueryRow(ctx, `SELECT totp_secret, totp_enabled FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&secret, &enabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, blog.ErrUserNotFound
	}
	return secret, enabled, err
}

// changeFactor runs fn in a transaction, after locking the user's row;
// fn gets the stored secret and whether it is on.
func (s *Store) changeFactor(ctx context.Context, what, userID string, fn func(tx pgx.Tx, secret string, enabled bool) error) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		secret, enabled, err := lockTOTP(ctx, tx, userID)
		if err != nil {
			return err
		}
		return fn(tx, secret, enabled)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// BeginTOTP implements blog.TwoFactorStore.
func (s *Store) BeginTOTP(ctx context.Context, userID, sealed string) error {
	if sealed == "" {
		return errors.New("begin totp: empty secret")
	}
	return s.changeFactor(ctx, "begin totp", userID, func(tx pgx.Tx, _ string, enabled bool) error {
		if enabled {
			return blog.ErrTOTPEnabled
		}
		_, err := tx.Exec(ctx, `UPDATE users SET totp_secret = $1, totp_last_step = 0 WHERE id = $2`, sealed, userID)
		return err
	})
}

// EnableTOTP implements blog.TwoFactorStore: the check of the pending
// secret, the flag, the last step, the codes and the token version change
// in one transaction.
func (s *Store) EnableTOTP(ctx context.Context, userID, sealed string, step int64, recoveryHashes []string) error {
	return s.changeFactor(ctx, "enable totp", userID, func(tx pgx.Tx, secret string, enabled bool) error {
		if enabled {
			return blog.ErrTOTPEnabled
		}
		if secret == "" || secret != sealed {
			return blog.ErrNoPendingTOTP
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_enabled = true, totp_last_step = $1, token_version = token_version + 1 WHERE id = $2`, step, userID); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, recoveryHashes)
	})
}

// replaceCodes deletes the user's recovery codes and inserts hashes,
// inside tx. A hash given twice is kept once.
func replaceCodes(ctx context.Context, tx pgx.Tx, userID string, hashes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	if len(hashes) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, userID, hashes)
	return err
}

// UseTOTPStep implements blog.TwoFactorStore: the condition on the last
// step is part of the UPDATE, so of two requests with the same code the
// second (waiting for the first's row lock) finds the step recorded.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_enabled AND totp_last_step < $1`, step, userID)
	if err != nil {
		return fmt.Errorf("use totp step: %w", s.wrote(err))
	}
	return s.usedOrMissing(ctx, tag.RowsAffected(), userID, "use totp step")
}

// UseRecoveryCode implements blog.TwoFactorStore: the DELETE is the
// check, so a code is used once however many requests race for it.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", s.wrote(err))
	}
	return s.usedOrMissing(ctx, tag.RowsAffected(), userID, "use recovery code")
}

// usedOrMissing turns a write that changed no row into ErrCodeUsed, or
// ENOTFOUND when the user does not exist. (Accounts are never deleted, so
// the answer can't change between the write and this read.)
func (s *Store) usedOrMissing(ctx context.Context, changed int64, userID, what string) error {
	if changed > 0 {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&exists); err != nil {
		return fmt.Errorf("%s: %w", what, unavailable(err))
	}
	if !exists {
		return blog.ErrUserNotFound
	}
	return blog.ErrCodeUsed
}

// ReplaceRecoveryCodes implements blog.TwoFactorStore.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return s.changeFactor(ctx, "replace recovery codes", userID, func(tx pgx.Tx, _ string, enabled bool) error {
		if !enabled {
			return blog.ErrTOTPOff
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = $1`, userID); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, hashes)
	})
}

// DisableTOTP implements blog.TwoFactorStore. Only turning off a factor
// that was on bumps the token version: dropping an unconfirmed enrolment
// changes nothing about how the account signs in.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	return s.changeFactor(ctx, "disable totp", userID, func(tx pgx.Tx, secret string, enabled bool) error {
		if secret == "" && !enabled {
			return nil
		}
		bump := 0
		if enabled {
			bump = 1
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '', totp_enabled = false, totp_last_step = 0, token_version = token_version + $1 WHERE id = $2`, bump, userID); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, nil)
	})
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
	tag, err := s.pool.Exec(ctx, `UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3`, new, userID, old)
	if err != nil {
		return fmt.Errorf("reseal totp: %w", s.wrote(err))
	}
	if err := s.usedOrMissing(ctx, tag.RowsAffected(), userID, "reseal totp"); !errors.Is(err, blog.ErrCodeUsed) {
		return err
	}
	return nil // replaced meanwhile: nothing to do
}

// TOTPUsers implements blog.TwoFactorStore.
func (s *Store) TOTPUsers(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM users WHERE totp_secret <> '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("totp users: %w", unavailable(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("totp users: %w", unavailable(err))
	}
	return ids, nil
}
