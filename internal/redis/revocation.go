package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/palisade-blog/palisade/internal/blog"
)

var _ blog.RevocationStore = (*RevocationStore)(nil)

// revocationNS is the key namespace of revoked token IDs.
const revocationNS = "rev:"

// revokeScript stores a revocation until ARGV[1] (Unix milliseconds), but
// never shortens one already stored: revoking a token twice, with an
// earlier expiry the second time, must not let it work again sooner. The
// server's clock is read in the script so the comparison is atomic.
var revokeScript = goredis.NewScript(`
local at = tonumber(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
	local t = redis.call('TIME')
	local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
	if now + ttl >= at then
		return 0
	end
end
redis.call('SET', KEYS[1], '1', 'PXAT', at)
return 1
`)

// RevocationStore remembers revoked JWT IDs until the tokens expire, for
// every instance at once. It implements blog.RevocationStore; Redis
// forgets a revocation when its token expires, so pruning is a no-op.
type RevocationStore struct {
	c *Client
}

// Revocations returns the revocation store.
func (c *Client) Revocations() *RevocationStore {
	return &RevocationStore{c: c}
}

// RevokeToken records that the token with this ID is no longer valid until
// expiresAt, when the token stops working anyway. A token that has already
// expired needs no record. Revoking twice is not an error.
func (r *RevocationStore) RevokeToken(ctx context.Context, tokenID string, expiresAt time.Time) error {
	if !expiresAt.After(time.Now()) {
		return nil
	}
	ctx, cancel := r.c.bound(ctx)
	defer cancel()
	err := revokeScript.Run(ctx, r.c.rdb, []string{r.c.key(revocationNS, tokenID)}, ceilMilli(expiresAt)).Err()
	if err != nil {
		return r.c.wrap("revoke token", err)
	}
	return nil
}

// ClaimToken revokes the token ID until expiresAt only if it was not
// revoked already, and reports whether this call did it: SET NX is one
// step on the server, so of any number of instances claiming one ID at
// once exactly one gets true. A token that has already expired can't be
// claimed (it would not be kept, and a claim that answered true for it
// could be answered true again).
func (r *RevocationStore) ClaimToken(ctx context.Context, tokenID string, expiresAt time.Time) (bool, error) {
	if !expiresAt.After(time.Now()) {
		return false, nil
	}
	ctx, cancel := r.c.bound(ctx)
	defer cancel()
	err := r.c.rdb.Do(ctx, "SET", r.c.key(revocationNS, tokenID), "1", "NX", "PXAT", ceilMilli(expiresAt)).Err()
	if errors.Is(err, goredis.Nil) {
		return false, nil // NX: it was there
	}
	if err != nil {
		return false, r.c.wrap("claim token", err)
	}
	return true, nil
}

// TokenRevoked reports whether the token ID was revoked (and its token has
// not expired since).
func (r *RevocationStore) TokenRevoked(ctx context.Context, tokenID string) (bool, error) {
	ctx, cancel := r.c.bound(ctx)
	defer cancel()
	n, err := r.c.rdb.Exists(ctx, r.c.key(revocationNS, tokenID)).Result()
	if err != nil {
		return false, r.c.wrap("token revoked", err)
	}
	return n > 0, nil
}

// PruneRevocations does nothing: every revocation key carries its token's
// expiry and Redis removes it then.
func (r *RevocationStore) PruneRevocations(context.Context, time.Time) error {
	return nil
}

// ceilMilli is t in Unix milliseconds, rounded up: a revocation may outlive
// its token by a fraction of a millisecond, never the other way round.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}
