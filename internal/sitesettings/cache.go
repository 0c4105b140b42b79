// Package sitesettings keeps the site settings (title, description) that
// every page and feed shows, cached so that a page costs no query for
// them.
//
// The cache is per instance. A change made through Cache.Set is seen at
// once on the instance that made it; other instances (behind a load
// balancer, or a change made with `palisade site set`) see it within
// MaxAge, when their copy next expires.
package sitesettings

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// MaxAge is how long a copy of the settings is used before it is read
// again: short enough that a change on another instance shows within
// seconds, long enough that a busy site reads them a few times a
// minute, not once per page.
const MaxAge = 5 * time.Second

// Cache reads the settings from a store at most once per MaxAge. Its
// methods are safe for concurrent use.
type Cache struct {
	store blog.SettingsStore
	log   *slog.Logger
	now   func() time.Time // a test's clock

	mu         sync.Mutex
	value      blog.Settings // blog.DefaultSettings until the first read
	expires    time.Time     // when value is read again; zero before the first read
	refreshing bool          // one reader refreshes; the others use value meanwhile
	generation int           // bumped by Set, so an older read can't overwrite it
}

// New returns a cache over store that logs failed reads to log.
func New(store blog.SettingsStore, log *slog.Logger) *Cache {
	return &Cache{store: store, log: log, now: time.Now, value: blog.DefaultSettings()}
}

// Get returns the settings: the cached copy while it is younger than
// MaxAge, else a fresh read. It never fails: if the store can't be read,
// it returns the last copy it had (or blog.DefaultSettings before the
// first read) and tries again after MaxAge, so an outage costs one log
// line per MaxAge, not one per page, and the page (an error page,
// perhaps) still has a title.
func (c *Cache) Get(ctx context.Context) blog.Settings {
	c.mu.Lock()
	now := c.now()
	if now.Before(c.expires) || c.refreshing && !c.expires.IsZero() {
		v := c.value
		c.mu.Unlock()
		return v
	}
	c.refreshing = true
	gen := c.generation
	c.mu.Unlock()

	s, err := c.store.Settings(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	c.expires = c.now().Add(MaxAge)
	if err != nil {
		if ctx.Err() == nil { // a reader who hung up is no outage
			c.log.WarnContext(ctx, "reading the site settings failed; showing the last known ones", "error", err)
		}
		return c.value
	}
	if gen == c.generation {
		c.value = s
	}
	return c.value
}

// Set stores s (blog.SettingsStore.SetSettings: the *blog.ValidationError
// of Validate, and nothing stored, for invalid settings) and, once it is
// stored, makes it this instance's copy at once.
func (c *Cache) Set(ctx context.Context, s blog.Settings) error {
	if err := c.store.SetSettings(ctx, s); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	c.value = s
	c.expires = c.now().Add(MaxAge)
	return nil
}
