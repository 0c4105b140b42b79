package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// sessionDoc is a document of the sessions collection, as connect-mongo
// keeps them: the data under the key until expiry, with a TTL index on
// expiry (where the server has TTL indexes; PruneSessions otherwise).
type sessionDoc struct {
	Key    string    `bson:"_id"`
	Data   []byte    `bson:"data"` // BSON binary
	Expiry time.Time `bson:"expiry"`
}

// FindSession implements blog.SessionStore. It checks the expiry itself:
// a TTL monitor deletes expired documents only every minute or so.
func (s *Store) FindSession(ctx context.Context, key string) ([]byte, bool, error) {
	var d sessionDoc
	err := s.sessions.FindOne(ctx, bson.M{"_id": key, "expiry": bson.M{"$gt": time.Now()}}).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("find session: %w", unavailable(err))
	}
	return d.Data, true, nil
}

// TakeSession implements blog.SessionStore: it reads the session, then
// deletes it only if it is still exactly what was read, and returns it
// only if that delete removed it. Of concurrent takes one delete removes
// the document and the others find nothing to delete, whatever they read.
// FindOneAndDelete would do it in one call on MongoDB, but FerretDB runs it
// as a find then a delete, and there two takes both got the data. It
// checks the expiry itself, as FindSession.
func (s *Store) TakeSession(ctx context.Context, key string) ([]byte, bool, error) {
	var d sessionDoc
	err := s.sessions.FindOne(ctx, bson.M{"_id": key, "expiry": bson.M{"$gt": time.Now()}}).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("take session: %w", unavailable(err))
	}
	// Matching data and expiry too: a session saved again under the key
	// since the read is not the one read, and is left alone.
	if d.Data == nil {
		d.Data = []byte{} // stored as empty binary, never null
	}
	res, err := s.sessions.DeleteOne(ctx, bson.M{"_id": key, "data": d.Data, "expiry": d.Expiry})
	if err != nil {
		return nil, false, fmt.Errorf("take session: %w", unavailable(err))
	}
	if res.DeletedCount != 1 {
		return nil, false, nil
	}
	return d.Data, true, nil
}

// SaveSession implements blog.SessionStore: an upserting replace, so it
// creates or overwrites in one atomic operation.
func (s *Store) SaveSession(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if data == nil {
		data = []byte{} // binary, not null
	}
	_, err := s.sessions.ReplaceOne(ctx, bson.M{"_id": key},
		sessionDoc{Key: key, Data: data, Expiry: expiry},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save session: %w", unavailable(err))
	}
	return nil
}

// DeleteSession implements blog.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, key string) error {
	if _, err := s.sessions.DeleteOne(ctx, bson.M{"_id": key}); err != nil {
		return fmt.Errorf("delete session: %w", unavailable(err))
	}
	return nil
}

// PruneSessions implements blog.SessionStore.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) error {
	if _, err := s.sessions.DeleteMany(ctx, bson.M{"expiry": bson.M{"$lte": now}}); err != nil {
		return fmt.Errorf("prune sessions: %w", unavailable(err))
	}
	return nil
}
