package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// placeholderPrefix marks a usernameSkeleton that stands in for the real
// one. A real skeleton of a valid username never holds a colon, so
// placeholders can't collide with one.
const placeholderPrefix = "legacy:"

// placeholderSkeletons gives every account stored without a
// usernameSkeleton (from before look-alikes were refused) a unique
// placeholder, so that the unique index can be built; fillSkeletons then
// swaps in the real ones. Idempotent: the placeholder is a function of the
// account's ID.
func (s *Store) placeholderSkeletons(ctx context.Context) error {
	cur, err := s.users.Find(ctx, bson.M{"usernameSkeleton": bson.M{"$exists": false}},
		options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return fmt.Errorf("username skeletons: %w", unavailable(err))
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("username skeletons: %w", unavailable(err))
	}
	for _, d := range docs {
		if _, err := s.users.UpdateOne(ctx, bson.M{"_id": d.ID, "usernameSkeleton": bson.M{"$exists": false}},
			bson.M{"$set": bson.M{"usernameSkeleton": placeholderPrefix + d.ID}}); err != nil {
			return fmt.Errorf("username skeletons: %w", unavailable(err))
		}
	}
	return nil
}

// fillSkeletons replaces each placeholder with the account's real
// skeleton, oldest account first. Where an older account already has the
// same skeleton, the placeholder stays: that look-alike pair predates the
// rule, both accounts keep working, and the older one's skeleton still
// blocks any new look-alike. The unique index makes this safe when several
// instances start at once.
func (s *Store) fillSkeletons(ctx context.Context) error {
	// Placeholders sort between "legacy:" and "legacy;" (';' follows ':').
	filter := bson.M{"usernameSkeleton": bson.M{"$gte": placeholderPrefix, "$lt": "legacy;"}}
	cur, err := s.users.Find(ctx, filter, options.Find().
		SetProjection(bson.M{"_id": 1, "username": 1}).
		SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("username skeletons: %w", unavailable(err))
	}
	var docs []struct {
		ID       string `bson:"_id"`
		Username string `bson:"username"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("username skeletons: %w", unavailable(err))
	}
	for _, d := range docs {
		skeleton := blog.UsernameSkeleton(d.Username)
		// Look first: FerretDB reports a unique violation on update as an
		// internal error, not a duplicate key. The index still decides
		// when two instances race here.
		err := s.users.FindOne(ctx, bson.M{"usernameSkeleton": skeleton}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
		if err == nil {
			continue
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("username skeletons: %w", unavailable(err))
		}
		_, err = s.users.UpdateOne(ctx, bson.M{"_id": d.ID, "usernameSkeleton": placeholderPrefix + d.ID},
			bson.M{"$set": bson.M{"usernameSkeleton": skeleton}})
		if mongo.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("username skeletons: %w", unavailable(err))
		}
	}
	return nil
}
