package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Settings implements blog.SettingsStore.
func (s *Store) Settings(ctx context.Context) (blog.Settings, error) {
	var st blog.Settings
	err := s.pool.QueryRow(ctx, `SELECT title, description FROM site_settings WHERE id = 1`).Scan(&st.Title, &st.Description)
	if errors.Is(err, pgx.ErrNoRows) {
		return blog.DefaultSettings(), nil
	}
	if err != nil {
		return blog.Settings{}, fmt.Errorf("settings: %w", unavailable(err))
	}
	return st, nil
}

// SetSettings implements blog.SettingsStore.
func (s *Store) SetSettings(ctx context.Context, st blog.Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO site_settings (id, title, description) VALUES (1, $1, $2)
		 ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description`,
		st.Title, st.Description)
	if err := s.wrote(err); err != nil {
		return fmt.Errorf("set settings: %w", err)
	}
	return nil
}
