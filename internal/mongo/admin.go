package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// enabledAdmin matches the accounts that count as admins for the
// last-admin guard and the first-admin claim.
var enabledAdmin = bson.M{"role": string(blog.RoleAdmin), "disabled": false}

// Lease locks: a document in the locks collection, keyed by what it
// guards, that serialises operations across instances where a single
// document's update can't. The insert that takes a free lock is the
// atomic step (the unique _id refuses a second one); FerretDB 1.24 does
// not apply a conditional update or findAndModify atomically against a
// concurrent one, so nothing here relies on those.
//
// The admins lock serialises every change that could take away the last
// admin or relies on there being none (a demotion, disabling, the
// first-admin claim): without it, two such changes would each count the
// admins before the other's change. Changes that only add admins don't
// take it: they can't make a count too high. An invite's lock serialises
// its redeems (see RedeemInvite).
//
// A lock is a lease: a holder that dies leaves it held for at most
// lockLease, and a holder does its work for at most half of that, so it
// is done long before another can take the lock over. Instances compare
// times from their own clocks: they must agree to well within a few
// seconds (NTP does).
const (
	adminsLockID = "admins"
	lockLease    = 10 * time.Second
)

// lock takes the lease lock with this ID, waiting while another holder
// has it, and returns the context to do the work in (bounded to half the
// lease) and the function that releases the lock.
func (s *Store) lock(ctx context.Context, id string) (context.Context, func(), error) {
	holder := blog.NewID()
	pause := 5 * time.Millisecond
	for {
		now := time.Now()
		// Taken if free (no document: the upsert inserts it) or expired
		// (the filter matches and the update takes it over). While another
		// holds it, the filter matches nothing and the upsert's insert
		// collides with the existing _id.
		_, err := s.locks.UpdateOne(ctx,
			bson.M{"_id": id, "until": bson.M{"$lt": micros(now)}},
			bson.M{"$set": bson.M{"holder": holder, "until": micros(now.Add(lockLease))}},
			options.UpdateOne().SetUpsert(true))
		if err == nil {
			work, cancel := context.WithTimeout(ctx, lockLease/2)
			release := func() {
				cancel()
				// Released even if ctx ended; if this fails the lease
				// runs out by itself.
				_, _ = s.locks.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": id, "holder": holder})
			}
			return work, release, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, nil, fmt.Errorf("lock: %w", unavailable(err))
		}
		if s.lockBusy != nil {
			s.lockBusy(id)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("lock: %w: %w", blog.ErrStoreUnavailable, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// changeUser applies update to the user. If removesAdmin, the change could
// take away an admin (a demotion, disabling), and it is refused with
// ErrLastAdmin when the user is the only enabled admin, counted under the
// admins lock.
func (s *Store) changeUser(ctx context.Context, userID string, removesAdmin bool, update bson.M, what string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	if !removesAdmin {
		return s.updateUser(ctx, userID, update, what)
	}
	work, release, err := s.lock(ctx, adminsLockID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer release()
	others, err := s.users.CountDocuments(work, bson.M{"role": string(blog.RoleAdmin), "disabled": false, "_id": bson.M{"$ne": userID}},
		options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("%s: count admins: %w", what, unavailable(err))
	}
	if others == 0 {
		self, err := s.users.CountDocuments(work, bson.M{"role": string(blog.RoleAdmin), "disabled": false, "_id": userID})
		if err != nil {
			return fmt.Errorf("%s: count admins: %w", what, unavailable(err))
		}
		if self > 0 {
			return blog.ErrLastAdmin
		}
	}
	return s.updateUser(work, userID, update, what)
}

// EnableUser implements blog.UserStore.
func (s *Store) EnableUser(ctx context.Context, userID string) error {
	return s.updateUser(ctx, userID, bson.M{"$set": bson.M{"disabled": false}}, "enable user")
}

// ListUsers implements blog.UserStore.
func (s *Store) ListUsers(ctx context.Context) ([]blog.User, error) {
	users, err := findAll(ctx, s.users, bson.M{}, options.Find().
		SetSort(bson.D{{Key: "usernameKey", Value: 1}}).
		SetLimit(blog.MaxListUsers).
		SetProjection(withoutHash), userDoc.user)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	counts, err := s.passkeyCounts(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	for i := range users {
		users[i].Passkeys = counts[users[i].ID]
	}
	return users, nil
}

// HasAdmin implements blog.UserStore.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	n, err := s.users.CountDocuments(ctx, enabledAdmin, options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("has admin: %w", unavailable(err))
	}
	return n > 0, nil
}

// CreateFirstAdmin implements blog.UserStore. The check and the insert run
// under the admins lock, so of two claims, from any instances, the second
// finds the first one's admin.
func (s *Store) CreateFirstAdmin(ctx context.Context, nu blog.NewUser) (blog.User, error) {
	nu.Role = blog.RoleAdmin
	work, release, err := s.lock(ctx, adminsLockID)
	if err != nil {
		return blog.User{}, fmt.Errorf("create first admin: %w", err)
	}
	defer release()
	exists, err := s.HasAdmin(work)
	if err != nil {
		return blog.User{}, fmt.Errorf("create first admin: %w", err)
	}
	if exists {
		return blog.User{}, blog.ErrAdminExists
	}
	u, err := s.insertUser(work, blog.NewID(), nu)
	if err != nil {
		return blog.User{}, fmt.Errorf("create first admin: %w", err)
	}
	return u, nil
}

// insertUser inserts a new account with the given ID (CreateUser's, an
// invite's or the first admin's), mapping a duplicate key on the username
// or its skeleton to ErrUsernameTaken.
func (s *Store) insertUser(ctx context.Context, id string, nu blog.NewUser) (blog.User, error) {
	if err := nu.Role.Validate(); err != nil {
		return blog.User{}, err
	}
	d := userDoc{
		ID:               id,
		Username:         nu.Username,
		UsernameKey:      blog.UsernameKey(nu.Username),
		UsernameSkeleton: blog.UsernameSkeleton(nu.Username),
		PasswordHash:     nu.PasswordHash,
		Role:             string(nu.Role),
		CreatedAt:        micros(blog.Now()),
	}
	_, err := s.users.InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return blog.User{}, blog.ErrUsernameTaken
	}
	if err != nil {
		return blog.User{}, fmt.Errorf("insert user: %w", unavailable(err))
	}
	return d.user(), nil
}
