package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Settings implements blog.SettingsStore.
func (s *Store) Settings(ctx context.Context) (blog.Settings, error) {
	var st blog.Settings
	// Read on every page: through the statement cache.
	err := reads{s}.QueryRowContext(ctx, `SELECT title, description FROM site_settings WHERE id = 1`).Scan(&st.Title, &st.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return blog.DefaultSettings(), nil
	}
	if err != nil {
		return blog.Settings{}, fmt.Errorf("settings: %w", err)
	}
	return st, nil
}

// SetSettings implements blog.SettingsStore.
func (s *Store) SetSettings(ctx context.Context, st blog.Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO site_settings (id, title, description) VALUES (1, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description`,
		st.Title, st.Description)
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("set settings: %w", err)
	}
	return nil
}
