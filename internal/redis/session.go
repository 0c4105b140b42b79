package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/palisade-blog/palisade/internal/blog"
)

var _ blog.SessionStore = (*SessionStore)(nil)

// sessionNS is the key namespace of sessions.
const sessionNS = "sess:"

// SessionStore keeps website sessions in Redis so that any instance can
// serve any signed-in visitor. It implements blog.SessionStore; Redis
// expires sessions itself, so pruning is a no-op.
type SessionStore struct {
	c *Client
}

// Sessions returns the session store.
func (c *Client) Sessions() *SessionStore {
	return &SessionStore{c: c}
}

// FindSession returns the session's data if it exists and has not expired.
func (s *SessionStore) FindSession(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	data, err := s.c.rdb.Get(ctx, s.c.key(sessionNS, key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.c.wrap("find session", err)
	}
	return data, true, nil
}

// TakeSession returns the session's data and deletes it in one step
// (GETDEL, Redis 6.2 or later), so of concurrent takes on any instances
// one gets it.
func (s *SessionStore) TakeSession(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	data, err := s.c.rdb.GetDel(ctx, s.c.key(sessionNS, key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.c.wrap("take session", err)
	}
	return data, true, nil
}

// SaveSession stores data under key until expiry, replacing any session
// there. The expiry is absolute (PXAT), so it means the same instant
// whichever instance wrote it and however long the write took; rounding to
// milliseconds truncates, so a session ends early rather than late. An expiry
// not in the future deletes the session: that is what storing it would
// amount to.
func (s *SessionStore) SaveSession(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if !expiry.After(time.Now()) {
		if err := s.DeleteSession(ctx, key); err != nil {
			return s.c.wrap("save expired session", err)
		}
		return nil
	}
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	err := s.c.rdb.Do(ctx, "SET", s.c.key(sessionNS, key), data, "PXAT", expiry.UnixMilli()).Err()
	if err != nil {
		return s.c.wrap("save session", err)
	}
	return nil
}

// DeleteSession removes the session; deleting a missing one is not an
// error.
func (s *SessionStore) DeleteSession(ctx context.Context, key string) error {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	if err := s.c.rdb.Del(ctx, s.c.key(sessionNS, key)).Err(); err != nil {
		return s.c.wrap("delete session", err)
	}
	return nil
}

// PruneSessions does nothing: every session key carries its expiry and
// Redis removes it then.
func (s *SessionStore) PruneSessions(context.Context, time.Time) error {
	return nil
}
