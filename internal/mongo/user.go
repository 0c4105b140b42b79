package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// userDoc is a document of the users collection.
type userDoc struct {
	ID          string `bson:"_id"`
	Username    string `bson:"username"`
	UsernameKey string `bson:"usernameKey"`
	// UsernameSkeleton is blog.UsernameSkeleton(Username), unique; see
	// placeholderSkeletons for accounts from before it.
	UsernameSkeleton string `bson:"usernameSkeleton"`
	PasswordHash     string `bson:"passwordHash"`
	Role             string `bson:"role"`
	Disabled         bool   `bson:"disabled"`
	TokenVersion     int64  `bson:"tokenVersion"`
	CreatedAt        int64  `bson:"createdAt"` // Unix microseconds

	// Second factors (see twofactor.go). Absent on accounts that never
	// had one, which reads as none.
	TOTPSecret    string   `bson:"totpSecret,omitempty"` // sealed
	TOTPEnabled   bool     `bson:"totpEnabled,omitempty"`
	TOTPLastStep  int64    `bson:"totpLastStep,omitempty"`
	RecoveryCodes []string `bson:"recoveryCodes,omitempty"` // hashes
}

func (d userDoc) user() blog.User {
	return blog.User{
		ID:           d.ID,
		Username:     d.Username,
		Role:         blog.Role(d.Role),
		Disabled:     d.Disabled,
		TokenVersion: int(d.TokenVersion),
		TOTP:         d.TOTPEnabled,
		CreatedAt:    fromMicros(d.CreatedAt),
	}
}

// withoutHash keeps the password hash on the server for every read but
// Credentials, and the sealed TOTP secret and recovery code hashes for
// every read but TwoFactor.
var withoutHash = bson.M{"passwordHash": 0, "totpSecret": 0, "recoveryCodes": 0}

// withoutFactors is Credentials' projection: the hash, not the factors.
var withoutFactors = bson.M{"totpSecret": 0, "recoveryCodes": 0}

// micros is how users and posts keep times: exact to the microsecond,
// which blog.Now guarantees and a BSON date (milliseconds) would not.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// CreateUser implements blog.UserStore. The unique indexes on usernameKey
// and usernameSkeleton make a taken username (in any case) or a look-alike
// of one a duplicate key error, even when two sign-ups race.
func (s *Store) CreateUser(ctx context.Context, nu blog.NewUser) (blog.User, error) {
	return s.insertUser(ctx, blog.NewID(), nu)
}

// UserByID implements blog.UserStore.
func (s *Store) UserByID(ctx context.Context, id string) (blog.User, error) {
	if !blog.ValidID(id) {
		return blog.User{}, blog.ErrUserNotFound
	}
	d, err := s.findUser(ctx, bson.M{"_id": id}, false)
	if err != nil {
		return blog.User{}, fmt.Errorf("user by id: %w", err)
	}
	return d.user(), nil
}

// UserByUsername implements blog.UserStore.
func (s *Store) UserByUsername(ctx context.Context, username string) (blog.User, error) {
	d, err := s.findUser(ctx, bson.M{"usernameKey": blog.UsernameKey(username)}, false)
	if err != nil {
		return blog.User{}, fmt.Errorf("user by username: %w", err)
	}
	return d.user(), nil
}

// Credentials implements blog.UserStore.
func (s *Store) Credentials(ctx context.Context, username string) (blog.User, string, error) {
	d, err := s.findUser(ctx, bson.M{"usernameKey": blog.UsernameKey(username)}, true)
	if err != nil {
		return blog.User{}, "", fmt.Errorf("credentials: %w", err)
	}
	return d.user(), d.PasswordHash, nil
}

func (s *Store) findUser(ctx context.Context, filter bson.M, withHash bool) (userDoc, error) {
	opts := options.FindOne().SetProjection(withoutHash)
	if withHash {
		opts.SetProjection(withoutFactors)
	}
	var d userDoc
	err := s.users.FindOne(ctx, filter, opts).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return userDoc{}, blog.ErrUserNotFound
	}
	if err != nil {
		return userDoc{}, unavailable(err)
	}
	return d, nil
}

// SetPasswordHash implements blog.UserStore.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string, change blog.PasswordChange) error {
	bump, err := change.TokenVersionBump()
	if err != nil {
		return fmt.Errorf("set password hash: %w", err)
	}
	update := bson.M{"$set": bson.M{"passwordHash": hash}}
	if bump > 0 {
		update["$inc"] = bson.M{"tokenVersion": bump}
	}
	return s.updateUser(ctx, userID, update, "set password hash")
}

// SetRole implements blog.UserStore; see admin.go for the last-admin
// guard.
func (s *Store) SetRole(ctx context.Context, userID string, role blog.Role) error {
	if err := role.Validate(); err != nil {
		return err
	}
	return s.changeUser(ctx, userID, role != blog.RoleAdmin, bson.M{"$set": bson.M{"role": string(role)}}, "set role")
}

// DisableUser implements blog.UserStore; see admin.go for the last-admin
// guard. Both fields change in one single-document update, so no reader
// sees a disabled user whose tokens still work.
func (s *Store) DisableUser(ctx context.Context, userID string) error {
	return s.changeUser(ctx, userID, true, bson.M{"$set": bson.M{"disabled": true}, "$inc": bson.M{"tokenVersion": 1}}, "disable user")
}

func (s *Store) updateUser(ctx context.Context, userID string, update bson.M, what string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	res, err := s.users.UpdateOne(ctx, bson.M{"_id": userID}, update)
	if err != nil {
		return fmt.Errorf("%s: %w", what, unavailable(err))
	}
	if res.MatchedCount == 0 {
		return blog.ErrUserNotFound
	}
	return nil
}
