package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/palisade-blog/palisade/internal/blog"
)

// leaseID keeps blog.LeaseStore's leases apart from the store's own lease
// locks in the same collection.
func leaseID(name string) string { return "lease:" + name }

// TryLease implements blog.LeaseStore, in the locks collection. As with
// the store's own locks (see lock), the insert is the atomic step: the
// unique _id refuses a second holder. Our own lease is extended by an
// update that only matches it; an expired one is deleted first (only
// while still expired), so that two instances taking it over race on the
// insert, which only one wins. Expiry is by the instances' clocks.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if err := blog.ValidLease(name, holder, ttl); err != nil {
		return false, err
	}
	id := leaseID(name)
	now := time.Now()
	until := micros(now.Add(ttl))
	res, err := s.locks.UpdateOne(ctx, bson.M{"_id": id, "holder": holder}, bson.M{"$set": bson.M{"until": until}})
	if err != nil {
		return false, fmt.Errorf("take lease: %w", unavailable(err))
	}
	if res.MatchedCount == 1 {
		return true, nil
	}
	if _, err := s.locks.DeleteOne(ctx, bson.M{"_id": id, "until": bson.M{"$lte": micros(now)}}); err != nil {
		return false, fmt.Errorf("take lease: %w", unavailable(err))
	}
	_, err = s.locks.InsertOne(ctx, bson.M{"_id": id, "holder": holder, "until": until})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take lease: %w", unavailable(err))
	}
	return true, nil
}

// ReleaseLease implements blog.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.locks.DeleteOne(ctx, bson.M{"_id": leaseID(name), "holder": holder}); err != nil {
		return fmt.Errorf("release lease: %w", unavailable(err))
	}
	return nil
}
