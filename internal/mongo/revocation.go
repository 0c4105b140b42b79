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

// revocationDoc is a document of the revokedTokens collection. The TTL
// index on expiresAt lets the server delete it once the token has expired
// anyway (where the server has TTL indexes; PruneRevocations otherwise).
type revocationDoc struct {
	TokenID   string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// RevokeToken implements blog.RevocationStore. The token ID is the _id, so
// revoking twice is a duplicate key, which is success: the first
// revocation stands.
func (s *Store) RevokeToken(ctx context.Context, tokenID string, expiresAt time.Time) error {
	_, err := s.revocations.InsertOne(ctx, revocationDoc{TokenID: tokenID, ExpiresAt: expiresAt})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("revoke token: %w", unavailable(err))
	}
	return nil
}

// ClaimToken implements blog.RevocationStore: the token ID is the _id, so
// of concurrent inserts one succeeds and the others get a duplicate key,
// which means someone else claimed it.
func (s *Store) ClaimToken(ctx context.Context, tokenID string, expiresAt time.Time) (bool, error) {
	_, err := s.revocations.InsertOne(ctx, revocationDoc{TokenID: tokenID, ExpiresAt: expiresAt})
	switch {
	case err == nil:
		return true, nil
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	default:
		return false, fmt.Errorf("claim token: %w", unavailable(err))
	}
}

// TokenRevoked implements blog.RevocationStore.
func (s *Store) TokenRevoked(ctx context.Context, tokenID string) (bool, error) {
	err := s.revocations.FindOne(ctx, bson.M{"_id": tokenID},
		options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	default:
		return false, fmt.Errorf("token revoked: %w", unavailable(err))
	}
}

// PruneRevocations implements blog.RevocationStore.
func (s *Store) PruneRevocations(ctx context.Context, now time.Time) error {
	if _, err := s.revocations.DeleteMany(ctx, bson.M{"expiresAt": bson.M{"$lt": now}}); err != nil {
		return fmt.Errorf("prune revocations: %w", unavailable(err))
	}
	return nil
}
