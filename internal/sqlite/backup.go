package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// countQuery counts what Export writes, in one statement so the four
// numbers are of one moment.
const countQuery = `SELECT
	(SELECT count(*) FROM users),
	(SELECT count(*) FROM posts),
	(SELECT count(*) FROM invites),
	(SELECT count(*) FROM passkeys)`

// Count implements blog.BackupStore.
func (s *Store) Count(ctx context.Context) (blog.Counts, error) {
	var c blog.Counts
	if err := s.read.QueryRowContext(ctx, countQuery).Scan(&c.Users, &c.Posts, &c.Invites, &c.Passkeys); err != nil {
		return blog.Counts{}, fmt.Errorf("count: %w", err)
	}
	return c, nil
}

// Empty implements blog.BackupStore.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	empty, err := isEmpty(ctx, s.read)
	if err != nil {
		return false, fmt.Errorf("empty: %w", err)
	}
	return empty, nil
}

// rowQuerier is what *sql.DB and *sql.Tx have in common for one-row reads.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func isEmpty(ctx context.Context, db rowQuerier) (bool, error) {
	var held bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM posts)
		OR EXISTS (SELECT 1 FROM invites) OR EXISTS (SELECT 1 FROM passkeys)`).Scan(&held)
	return !held, err
}

// Export implements blog.BackupStore. Every read runs in one read
// transaction on the read pool: in WAL mode it sees the database as it
// was at its first read, whatever the writer commits meanwhile, and it
// never blocks the writer. Rows are handed to emit as they are read.
func (s *Store) Export(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return blog.Counts{}, fmt.Errorf("export: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to commit
	var c blog.Counts
	steps := []struct {
		what string
		fn   func(context.Context, *sql.Tx, func(blog.Record) error) (int, error)
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
			return blog.Counts{}, fmt.Errorf("export %s: %w", st.what, err)
		}
		*st.n = n
	}
	return c, nil
}

// eachRow runs query in tx and calls fn for each row, stopping at the
// first error.
func eachRow(ctx context.Context, tx *sql.Tx, query string, fn func(*sql.Rows) error) (int, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }() // read-only; rows.Err reports a failed read
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
func exportSettings(ctx context.Context, tx *sql.Tx, emit func(blog.Record) error) (int, error) {
	st := blog.DefaultSettings()
	err := tx.QueryRowContext(ctx, `SELECT title, description FROM site_settings WHERE id = 1`).Scan(&st.Title, &st.Description)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	return 1, emit(blog.Record{Settings: &st})
}

func exportUsers(ctx context.Context, tx *sql.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT id, username, password_hash, role, disabled, token_version, created_at,
		totp_secret, totp_enabled, totp_last_step,
		(SELECT json_group_array(hash) FROM (SELECT hash FROM recovery_codes WHERE user_id = users.id ORDER BY hash))
		FROM users ORDER BY created_at, id`, func(rows *sql.Rows) error {
		var (
			u                 blog.UserRecord
			role, codes       string
			disabled, enabled int
			created           int64
		)
		if err := rows.Scan(&u.ID, &u.Username, &u.PasswordHash, &role, &disabled, &u.TokenVersion, &created,
			&u.TOTPSecret, &enabled, &u.TOTPLastStep, &codes); err != nil {
			return err
		}
		u.Role = blog.Role(role)
		u.Disabled, u.TOTPEnabled = disabled != 0, enabled != 0
		u.CreatedAt = time.UnixMicro(created).UTC()
		if err := json.Unmarshal([]byte(codes), &u.RecoveryCodes); err != nil {
			return errors.New("unreadable recovery codes") // not the codes themselves
		}
		if len(u.RecoveryCodes) == 0 {
			u.RecoveryCodes = nil
		}
		return emit(blog.Record{User: &u})
	})
}

func exportPosts(ctx context.Context, tx *sql.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT id, author_id, title, content, content_html, status, created_at, updated_at, published_at
		FROM posts ORDER BY created_at, id`, func(rows *sql.Rows) error {
		var (
			p                blog.PostRecord
			created, updated int64
			published        sql.NullInt64
		)
		if err := rows.Scan(&p.ID, &p.AuthorID, &p.Title, &p.Content, &p.ContentHTML, &p.Status, &created, &updated, &published); err != nil {
			return err
		}
		p.CreatedAt = time.UnixMicro(created).UTC()
		p.UpdatedAt = time.UnixMicro(updated).UTC()
		p.PublishedAt = microsPtr(published)
		return emit(blog.Record{Post: &p})
	})
}

func exportInvites(ctx context.Context, tx *sql.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT `+inviteColumns+`, token_hash FROM invites ORDER BY created_at, id`, func(rows *sql.Rows) error {
		var inv blog.InviteRecord
		var err error
		inv.Invite, err = scanInvite(scanPlus{rows, &inv.TokenHash})
		if err != nil {
			return err
		}
		return emit(blog.Record{Invite: &inv})
	})
}

// scanPlus scans a row of some columns and one more, into extra.
type scanPlus struct {
	row   scanner
	extra any
}

// Scan implements scanner.
func (s scanPlus) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }

func exportPasskeys(ctx context.Context, tx *sql.Tx, emit func(blog.Record) error) (int, error) {
	return eachRow(ctx, tx, `SELECT `+passkeyColumns+` FROM passkeys ORDER BY created_at, id`, func(rows *sql.Rows) error {
		var id sql.NullString
		p, err := scanPasskey(rows, &id)
		if err != nil {
			return err
		}
		return emit(blog.Record{Passkey: &p})
	})
}

// Import implements blog.BackupStore: every record in one write
// transaction, which BEGIN IMMEDIATE starts with SQLite's write lock, so
// nothing else writes between the emptiness check and the last insert,
// and any error leaves the database as it was.
func (s *Store) Import(ctx context.Context, records iter.Seq2[blog.Record, error]) (blog.Counts, error) {
	var c blog.Counts
	err := s.withTx(ctx, func(tx *sql.Tx) error {
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
func importRecord(ctx context.Context, tx *sql.Tx, r blog.Record, c *blog.Counts) error {
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

func importSettings(ctx context.Context, tx *sql.Tx, st blog.Settings) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO site_settings (id, title, description) VALUES (1, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description`,
		st.Title, st.Description)
	return err
}

// importUser inserts an account as it was, its keys computed as
// CreateUser computes them. A look-alike of an earlier account (a pair
// registered before look-alikes were refused, of which the younger kept
// working without a skeleton) is stored without one again rather than
// failing the restore; the same name in another case still fails it.
func importUser(ctx context.Context, tx *sql.Tx, u blog.UserRecord) error {
	skeleton := blog.UsernameSkeleton(u.Username)
	_, err := tx.ExecContext(ctx, `INSERT INTO users (id, username, username_key, username_skeleton, password_hash, role,
		disabled, token_version, created_at, totp_secret, totp_enabled, totp_last_step)
		VALUES (?1, ?2, ?3, CASE WHEN EXISTS (SELECT 1 FROM users WHERE username_skeleton = ?4) THEN NULL ELSE ?4 END,
		?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
		u.ID, u.Username, blog.UsernameKey(u.Username), skeleton, u.PasswordHash, string(u.Role),
		u.Disabled, u.TokenVersion, u.CreatedAt.UnixMicro(), u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep)
	if isKeyViolation(err) {
		return blog.ErrUsernameTaken
	}
	if err != nil {
		return err
	}
	for _, h := range u.RecoveryCodes {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO recovery_codes (user_id, hash) VALUES (?, ?)`, u.ID, h); err != nil {
			return err
		}
	}
	return nil
}

func importPost(ctx context.Context, tx *sql.Tx, p blog.PostRecord) error {
	if err := userExists(ctx, tx, p.AuthorID, blog.ErrAuthorNotFound); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO posts (id, author_id, title, content, content_html, created_at, updated_at, status, published_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.AuthorID, p.Title, p.Content, p.ContentHTML, p.CreatedAt.UnixMicro(), p.UpdatedAt.UnixMicro(), string(p.Status), timeOrNull(p.PublishedAt))
	if isKeyViolation(err) {
		return blog.ErrDuplicateRecord
	}
	return err
}

func importInvite(ctx context.Context, tx *sql.Tx, inv blog.InviteRecord) error {
	for _, id := range []string{inv.CreatedBy, inv.UsedBy} {
		if id == "" {
			continue
		}
		if err := userExists(ctx, tx, id, blog.ErrUserNotFound); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO invites (id, token_hash, role, created_by, created_at, expires_at, used_at, used_by, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.TokenHash, string(inv.Role), nullString(inv.CreatedBy), inv.CreatedAt.UnixMicro(), inv.ExpiresAt.UnixMicro(),
		timeOrNull(inv.UsedAt), nullString(inv.UsedBy), timeOrNull(inv.RevokedAt))
	if isKeyViolation(err) {
		return blog.ErrInviteExists
	}
	return err
}

func importPasskey(ctx context.Context, tx *sql.Tx, p blog.Passkey) error {
	if err := userExists(ctx, tx, p.UserID, blog.ErrUserNotFound); err != nil {
		return err
	}
	transports, err := encodeTransports(p.Transports)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.Name, p.PublicKey, p.AttestationType, nilIfEmpty(p.AAGUID), transports,
		int64(p.SignCount), p.BackupEligible, p.BackupState, p.CreatedAt.UnixMicro(), microsOrNull(p.LastUsedAt))
	if isKeyViolation(err) {
		return blog.ErrPasskeyExists
	}
	return err
}

// userExists returns notFound unless the account id is stored: a
// reference to an account the backup did not hold (or holds later, out of
// Export's order) fails with a message rather than a bare foreign-key
// failure.
func userExists(ctx context.Context, tx *sql.Tx, id string, notFound error) error {
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return notFound
	}
	return nil
}

// timeOrNull stores a nil time as NULL, any other in Unix microseconds.
func timeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}
