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
// placeholder, so that the unique index can be built; blog.FillSkeletons
// (with skeletonFiller) then swaps in the real ones. Idempotent: the placeholder is a function of the
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

// skeletonFiller is blog.SkeletonFiller on the users collection, where
// an account from before look-alikes were refused holds a placeholder
// (placeholderSkeletons) until blog.FillSkeletons swaps in its real
// skeleton. Where an older account already has that skeleton the
// placeholder stays, which keeps the unique index satisfied.
type skeletonFiller struct{ users *mongo.Collection }

// UsersWithoutSkeleton implements blog.SkeletonFiller.
func (f skeletonFiller) UsersWithoutSkeleton(ctx context.Context, after blog.Cursor, limit int) ([]blog.UnskeletonedUser, error) {
	t := micros(after.CreatedAt)
	filter := bson.M{
		// Placeholders sort between "legacy:" and "legacy;" (';' follows ':').
		"usernameSkeleton": bson.M{"$gte": placeholderPrefix, "$lt": "legacy;"},
		"$or": bson.A{
			bson.M{"createdAt": bson.M{"$gt": t}},
			bson.M{"createdAt": t, "_id": bson.M{"$gt": after.ID}},
		},
	}
	cur, err := f.users.Find(ctx, filter, options.Find().
		SetProjection(bson.M{"_id": 1, "username": 1, "createdAt": 1}).
		SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(int64(limit)))
	if err != nil {
		return nil, unavailable(err)
	}
	var docs []struct {
		ID        string `bson:"_id"`
		Username  string `bson:"username"`
		CreatedAt int64  `bson:"createdAt"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err)
	}
	users := make([]blog.UnskeletonedUser, len(docs))
	for i, d := range docs {
		users[i] = blog.UnskeletonedUser{ID: d.ID, Username: d.Username, CreatedAt: fromMicros(d.CreatedAt)}
	}
	return users, nil
}

// SetSkeleton implements blog.SkeletonFiller.
func (f skeletonFiller) SetSkeleton(ctx context.Context, userID, skeleton string) error {
	// Look first: FerretDB reports a unique violation on update as an
	// internal error, not a duplicate key. The index still decides when
	// two instances race here.
	err := f.users.FindOne(ctx, bson.M{"usernameSkeleton": skeleton}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	if err == nil {
		return blog.ErrUsernameTaken
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return unavailable(err)
	}
	_, err = f.users.UpdateOne(ctx, bson.M{"_id": userID, "usernameSkeleton": placeholderPrefix + userID},
		bson.M{"$set": bson.M{"usernameSkeleton": skeleton}})
	if mongo.IsDuplicateKeyError(err) {
		return blog.ErrUsernameTaken
	}
	return unavailable(err)
}
