package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Export's order is the same on every store: by creation time, then by
// ID compared byte by byte (COLLATE "C": the database's collation might
// sort IDs another way than SQLite and MongoDB do), so that two stores
// holding the same records export the same file.

// Count implements blog.BackupStore.
func (s *Store) Count(ctx context.Context) (blog.Counts, error) {
	var c blog.Counts
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users), (SELECT count(*) FROM posts),
		(SELECT count(*) FROM invites), (SELECT count(*) FROM passkeys)`).Scan(&c.Users, &c.Posts, &c.Invites, &c.Passkeys)
	if err != nil {
		return blog.Counts{}, fmt.Errorf("count: %w", unavailable(err))
	}
	return c, nil
}

// Empty implements blog.BackupStore.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	empty, err := isEmpty(ctx, s.pool)
	if err != nil {
		return false, fmt.Errorf("empty: %w", unavailable(err))
	}
	return empty, nil
}

// rowQuerier is what the pool and a transaction have in common for
// one-row reads.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isEmpty(ctx context.Context, db rowQuerier) (bool, error) {
	var held bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM posts)
		OR EXISTS (SELECT 1 FROM invites) OR EXISTS (SELECT 1 FROM passkeys)`).Scan(&held)
	return !held, err
}

// Export implements blog.BackupStore. Every read runs in one REPEATABLE
// READ, READ ONLY transaction: all of them see the snapshot its first
// read took, whatever commits meanwhile, and none blocks a writer. Rows
// are handed to emit as the server sends them.
func (s *Store) Export(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return blog.Counts{}, fmt.Errorf("export: begin: %w", unavailable(err))
	}
	defer func() { _ = tx.Rollback(ctx) }() // read-only: nothing to commit
	var c blog.Counts
	steps := []struct {
		what string
		fn   func(context.Context, pgx.Tx, func(blog.Record) error) (int, error)
		n    *int
	}{
		{"settings", exportSettings, new(int)},
		{"users", exportUsers, &c.Users},
		{"posts", exportPosts, &c.Posts},
		{"invites", exportInvites, &c.Invites},
		{"passkeys", exportPasskeys, &c.Passkeys},
	}
	for _, st := range steps {
		n, err := st.fn(ctx, tx, emit)
		if err != nil {
			return blog.Counts{}, fmt.Errorf("export %s: %w", st.what, unavailable(err))
		}
		*st.n = n
	}
	return c, nil
}

// eachRow runs query in tx and calls fn for each row, stopping at the
// first error.
func eachRow(ctx context.Context, tx pgx.Tx, query string, fn func(pgx.Rows) error) (int, error) {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := fn(rows); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// exportSettings emits the settings, the defaults if none were set, so a
// backup always says what the site was called.
func exportSettings(ctx context.Context, tx pgx.Tx, emit func(blog.Record) error) (int, error) {
	st := blog.DefaultSettings()
	err := tx.QueryRow(ctx, `SELECT title, description FROM site_settings WHERE id = 1`).Scan(&st.Title, &st.Description)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	return 1, emit(blog.Record{Settings: &st})
}

func exportUsers(ctx context.Context, tx pgx.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT id, username, password_hash, role, disabled, token_version, created_at,
		totp_secret, totp_enabled, totp_last_step,
		ARRAY(SELECT hash FROM recovery_codes WHERE user_id = users.id ORDER BY hash COLLATE "C")
		FROM users ORDER BY created_at, id COLLATE "C"`, func(rows pgx.Rows) error {
		var (
			u    blog.UserRecord
			role string
		)
		if err := rows.Scan(&u.ID, &u.Username, &u.PasswordHash, &role, &u.Disabled, &u.TokenVersion, &u.CreatedAt,
			&u.TOTPSecret, &u.TOTPEnabled, &u.TOTPLastStep, &u.RecoveryCodes); err != nil {
			return err
		}
		u.Role = blog.Role(role)
		u.CreatedAt = u.CreatedAt.UTC()
		if len(u.RecoveryCodes) == 0 {
			u.RecoveryCodes = nil
		}
		return emit(blog.Record{User: &u})
	})
}

func exportPosts(ctx context.Context, tx pgx.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT id, author_id, title, content, content_html, status, created_at, updated_at, published_at
		FROM posts ORDER BY created_at, id COLLATE "C"`, func(rows pgx.Rows) error {
		var (
			p      blog.PostRecord
			status string
		)
		if err := rows.Scan(&p.ID, &p.AuthorID, &p.Title, &p.Content, &p.ContentHTML, &status, &p.CreatedAt, &p.UpdatedAt, &p.PublishedAt); err != nil {
			return err
		}
		p.Status = blog.PostStatus(status)
		p.CreatedAt, p.UpdatedAt, p.PublishedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC(), utcPtr(p.PublishedAt)
		return emit(blog.Record{Post: &p})
	})
}

func exportInvites(ctx context.Context, tx pgx.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT `+inviteColumns+`, token_hash FROM invites ORDER BY created_at, id COLLATE "C"`, func(rows pgx.Rows) error {
		var (
			inv               blog.InviteRecord
			role              string
			createdBy, usedBy *string
		)
		if err := rows.Scan(&inv.ID, &role, &createdBy, &inv.CreatedAt, &inv.ExpiresAt, &inv.UsedAt, &usedBy, &inv.RevokedAt, &inv.TokenHash); err != nil {
			return err
		}
		inv.Role = blog.Role(role)
		inv.CreatedBy, inv.UsedBy = deref(createdBy), deref(usedBy)
		inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
		inv.UsedAt, inv.RevokedAt = utcPtr(inv.UsedAt), utcPtr(inv.RevokedAt)
		return emit(blog.Record{Invite: &inv})
	})
}

func exportPasskeys(ctx context.Context, tx pgx.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT `+passkeyColumns+` FROM passkeys ORDER BY created_at, id COLLATE "C"`, func(rows pgx.Rows) error {
		p, err := scanPasskey(rows)
		if err != nil {
			return err
		}
		return emit(blog.Record{Passkey: &p})
	})
}

// Import implements blog.BackupStore: every record in one transaction,
// so any error leaves the database as it was. The tables are locked
// against writes (reads go on) before the emptiness check, so nothing
// lands between the check and the last insert.
func (s *Store) Import(ctx context.Context, records iter.Seq2[blog.Record, error]) (blog.Counts, error) {
	var c blog.Counts
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE users, posts, invites, passkeys, recovery_codes, site_settings IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		empty, err := isEmpty(ctx, tx)
		if err != nil {
			return err
		}
		if !empty {
			return blog.ErrNotEmpty
		}
		i := 0
		for r, err := range records {
			if err != nil {
				return err
			}
			i++
			if err := importRecord(ctx, tx, r, &c); err != nil {
				return fmt.Errorf("record %d (%s): %w", i, r.Kind(), err)
			}
		}
		return nil
	})
	if err != nil {
		return blog.Counts{}, fmt.Errorf("import: %w", err)
	}
	return c, nil
}

// importRecord inserts one record and counts it in c.
func importRecord(ctx context.Context, tx pgx.Tx, r blog.Record, c *blog.Counts) error {
	if err := r.Validate(); err != nil {
		return err
	}
	switch r.Kind() {
	case blog.RecordSettings:
		return importSettings(ctx, tx, *r.Settings)
	case blog.RecordUser:
		c.Users++
		return importUser(ctx, tx, *r.User)
	case blog.RecordPost:
		c.Posts++
		return importPost(ctx, tx, *r.Post)
	case blog.RecordInvite:
		c.Invites++
		return importInvite(ctx, tx, *r.Invite)
	case blog.RecordPasskey:
		c.Passkeys++
		return importPasskey(ctx, tx, *r.Passkey)
	}
	return blog.ErrInvalidRecord
}

func importSettings(ctx context.Context, tx pgx.Tx, st blog.Settings) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO site_settings (id, title, description) VALUES (1, $1, $2)
		 ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description`,
		st.Title, st.Description)
	return err
}

// importUser inserts an account as it was, its keys computed as
// CreateUser computes them. A look-alike of an earlier account (a pair
// registered before look-alikes were refused, of which the younger kept
// working without a skeleton) is stored without one again rather than
// failing the restore; the same name in another case still fails it.
func importUser(ctx context.Context, tx pgx.Tx, u blog.UserRecord) error {
	_, err := tx.Exec(ctx, `INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role,
		disabled, token_version, created_at, totp_secret, totp_enabled, totp_last_step)
		VALUES ($1, $2, $3, CASE WHEN EXISTS (SELECT 1 FROM users WHERE username_skeleton = $4) THEN NULL ELSE $4 END,
		$5, $6, $7, $8, $9, $10, $11, $12)`,
		u.ID, u.Username, blog.UsernameKey(u.Username), blog.UsernameSkeleton(u.Username), u.PasswordHash, string(u.Role),
		u.Disabled, u.TokenVersion, u.CreatedAt.UTC(), u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep)
	if isUniqueViolation(err) {
		return blog.ErrUsernameTaken
	}
	if err != nil {
		return err
	}
	if len(u.RecoveryCodes) > 0 {
		_, err = tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash) SELECT $1, h FROM unnest($2::text[]) AS h ON CONFLICT DO NOTHING`,
			u.ID, u.RecoveryCodes)
	}
	return err
}

func importPost(ctx context.Context, tx pgx.Tx, p blog.PostRecord) error {
	if err := userExists(ctx, tx, p.AuthorID, blog.ErrAuthorNotFound); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at, status, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.ID, p.AuthorID, p.Title, p.Content, p.ContentHTML, p.CreatedAt.UTC(), p.UpdatedAt.UTC(), string(p.Status), utcPtr(p.PublishedAt))
	if isUniqueViolation(err) {
		return blog.ErrDuplicateRecord
	}
	return err
}

func importInvite(ctx context.Context, tx pgx.Tx, inv blog.InviteRecord) error {
	for _, id := range []string{inv.CreatedBy, inv.UsedBy} {
		if id == "" {
			continue
		}
		if err := userExists(ctx, tx, id, blog.ErrUserNotFound); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO invites (id, token_hash, role, created_by, created_at, expires_at, used_at, used_by, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		inv.ID, inv.TokenHash, string(inv.Role), nullString(inv.CreatedBy), inv.CreatedAt.UTC(), inv.ExpiresAt.UTC(),
		utcPtr(inv.UsedAt), nullString(inv.UsedBy), utcPtr(inv.RevokedAt))
	if isUniqueViolation(err) {
		return blog.ErrInviteExists
	}
	return err
}

func importPasskey(ctx context.Context, tx pgx.Tx, p blog.Passkey) error {
	if err := userExists(ctx, tx, p.UserID, blog.ErrUserNotFound); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.UserID, p.Name, p.PublicKey, p.AttestationType, nilIfEmpty(p.AAGUID), p.Transports,
		int64(p.SignCount), p.BackupEligible, p.BackupState, p.CreatedAt.UTC(), timeOrNull(p.LastUsedAt))
	if isUniqueViolation(err) {
		return blog.ErrPasskeyExists
	}
	return err
}

// userExists returns notFound unless the account id is stored: a
// reference to an account the backup did not hold (or holds later, out of
// Export's order) fails with a message rather than a bare foreign-key
// failure.
func userExists(ctx context.Context, tx pgx.Tx, id string, notFound error) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return notFound
	}
	return nil
}
