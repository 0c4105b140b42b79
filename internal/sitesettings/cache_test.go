package sitesettings

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// countingStore is a settings store in memory that counts reads and can
// be made to fail.
type countingStore struct {
	mu    sync.Mutex
	s     blog.Settings
	reads int
	fail  bool
}

func (st *countingStore) Settings(context.Context) (blog.Settings, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reads++
	if st.fail {
		return blog.Settings{}, errors.New("database down")
	}
	return st.s, nil
}

func (st *countingStore) SetSettings(_ context.Context, s blog.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s = s
	return nil
}

// newTestCache returns a cache over st with a clock the test moves.
func newTestCache(st *countingStore) (*Cache, *time.Time) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(st, logging.Discard())
	c.now = func() time.Time { return now }
	return c, &now
}

func TestGetReadsAtMostOncePerMaxAge(t *testing.T) {
	st := &countingStore{s: blog.Settings{Title: "First"}}
	c, now := newTestCache(st)
	for range 10 {
		if got := c.Get(t.Context()).Title; got != "First" {
			t.Fatalf("title = %q, want First", got)
		}
	}
	if st.reads != 1 {
		t.Fatalf("%d reads for 10 pages within MaxAge, want 1", st.reads)
	}

	// Another instance changes the settings: seen after MaxAge, not before.
	st.s = blog.Settings{Title: "Second"}
	*now = now.Add(MaxAge - time.Millisecond)
	if got := c.Get(t.Context()).Title; got != "First" {
		t.Fatalf("title before MaxAge = %q, want the cached First", got)
	}
	*now = now.Add(time.Millisecond)
	if got := c.Get(t.Context()).Title; got != "Second" {
		t.Fatalf("title after MaxAge = %q, want Second", got)
	}
	if st.reads != 2 {
		t.Fatalf("%d reads, want 2", st.reads)
	}
}

func TestSetIsSeenAtOnce(t *testing.T) {
	st := &countingStore{s: blog.DefaultSettings()}
	c, _ := newTestCache(st)
	c.Get(t.Context())
	if err := c.Set(t.Context(), blog.Settings{Title: "Mine", Description: "A blog"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(t.Context()); got.Title != "Mine" || got.Description != "A blog" {
		t.Fatalf("after Set: %+v", got)
	}
	if st.reads != 1 {
		t.Fatalf("%d reads, want 1: Set makes the new copy without reading", st.reads)
	}
}

func TestSetInvalidChangesNothing(t *testing.T) {
	st := &countingStore{s: blog.Settings{Title: "Kept"}}
	c, _ := newTestCache(st)
	var verr *blog.ValidationError
	if err := c.Set(t.Context(), blog.Settings{Title: ""}); !errors.As(err, &verr) {
		t.Fatalf("Set of an empty title: %v, want a validation error", err)
	}
	if got := c.Get(t.Context()).Title; got != "Kept" {
		t.Fatalf("title = %q, want Kept", got)
	}
}

func TestSetWinsOverAnOlderRead(t *testing.T) {
	// A read that began before Set and returns after it must not put the
	// old settings back.
	st := &countingStore{s: blog.Settings{Title: "Old"}}
	c, _ := newTestCache(st)
	slow := &slowStore{countingStore: st, started: make(chan struct{}), release: make(chan struct{})}
	c.store = slow
	done := make(chan blog.Settings)
	go func() { done <- c.Get(context.Background()) }()
	<-slow.started
	if err := c.Set(t.Context(), blog.Settings{Title: "New"}); err != nil {
		t.Fatal(err)
	}
	close(slow.release)
	<-done
	if got := c.Get(t.Context()).Title; got != "New" {
		t.Fatalf("title = %q, want New", got)
	}
}

type slowStore struct {
	*countingStore
	started, release chan struct{}
}

func (s *slowStore) Settings(ctx context.Context) (blog.Settings, error) {
	v, err := s.countingStore.Settings(ctx)
	close(s.started)
	<-s.release
	return v, err
}

func TestOutageKeepsTheLastCopy(t *testing.T) {
	st := &countingStore{s: blog.Settings{Title: "Known"}}
	c, now := newTestCache(st)
	c.Get(t.Context())
	st.fail = true
	*now = now.Add(MaxAge)
	for range 5 {
		if got := c.Get(t.Context()).Title; got != "Known" {
			t.Fatalf("title during an outage = %q, want the last known", got)
		}
	}
	if st.reads != 2 {
		t.Fatalf("%d reads during an outage within MaxAge, want 2 (one retry per MaxAge)", st.reads)
	}
}

func TestOutageBeforeFirstReadShowsDefaults(t *testing.T) {
	st := &countingStore{fail: true}
	c, _ := newTestCache(st)
	for range 3 {
		if got := c.Get(t.Context()); got != blog.DefaultSettings() {
			t.Fatalf("settings = %+v, want the defaults", got)
		}
	}
	if st.reads != 1 {
		t.Fatalf("%d reads, want 1", st.reads)
	}
}
