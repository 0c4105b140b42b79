package sqlite

import (
	"context"
	"fmt"
	"path/filepath"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Free space the readiness probe wants before it calls a full store
// writable again: room for a few of the largest posts.
const (
	minFreeBytes = 4 << 20
	minFreePages = minFreeBytes / pageSize
)

// wrote records the outcome of a write and returns its error: SQLITE_FULL
// (the disk, or the database's page limit, is full) becomes ENOSPACE and
// marks the store full until a later write succeeds or the probe in Ping
// finds room again; a success clears the mark.
func (s *Store) wrote(err error) error {
	switch {
	case err == nil:
		if s.full.Load() { // read first: most writes find it clear
			s.full.Store(false)
		}
	case primaryCode(err) == sqlite3.SQLITE_FULL:
		s.full.Store(true)
		return fmt.Errorf("%w: %w", blog.ErrNoSpace, err)
	}
	return err
}

// probeSpace checks, without writing, that a write could succeed again:
// the database is below its page limit by a margin, and the file system
// holding it has space to grow.
func (s *Store) probeSpace(ctx context.Context) error {
	var maxPages, pages, free int64
	for _, q := range []struct {
		pragma string
		dst    *int64
	}{{"max_page_count", &maxPages}, {"page_count", &pages}, {"freelist_count", &free}} {
		// On the writer: max_page_count is a setting of the connection.
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dst); err != nil {
			return fmt.Errorf("probe space: %w", err)
		}
	}
	if room := maxPages - pages + free; room < minFreePages {
		return fmt.Errorf("%w: %d free pages below the page limit", blog.ErrNoSpace, room)
	}
	if avail, ok := freeBytes(filepath.Dir(s.path)); ok && avail < minFreeBytes {
		return fmt.Errorf("%w: %d bytes free on the file system of %s", blog.ErrNoSpace, avail, s.path)
	}
	return nil
}

// SetMaxPages caps the database at n pages (PRAGMA max_page_count on the
// one writing connection): a write that would grow it further fails as
// on a full disk. Tests use it to fill a database for real.
func (s *Store) SetMaxPages(ctx context.Context, n int64) error {
	if _, err := s.write.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)); err != nil {
		return fmt.Errorf("set max_page_count: %w", err)
	}
	return nil
}
