package postgres

import (
	"context"
	"errors"
	"iter"

	"github.com/palisade-blog/palisade/internal/blog"
)

// errBackupPending: backups of PostgreSQL are being written; until then
// every BackupStore method refuses with an internal error.
var errBackupPending = errors.New("backup on PostgreSQL: not implemented yet")

// Count implements blog.BackupStore.
func (s *Store) Count(context.Context) (blog.Counts, error) { return blog.Counts{}, errBackupPending }

// Export implements blog.BackupStore.
func (s *Store) Export(context.Context, func(blog.Record) error) (blog.Counts, error) {
	return blog.Counts{}, errBackupPending
}

// Empty implements blog.BackupStore.
func (s *Store) Empty(context.Context) (bool, error) { return false, errBackupPending }

// Import implements blog.BackupStore.
func (s *Store) Import(context.Context, iter.Seq2[blog.Record, error]) (blog.Counts, error) {
	return blog.Counts{}, errBackupPending
}
