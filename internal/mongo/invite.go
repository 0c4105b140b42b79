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

// inviteDoc is a document of the invites collection. Every field is
// always present; an unset time is null and an unset user ID "", so a
// filter on {usedAt: null} is exact.
type inviteDoc struct {
	ID        string `bson:"_id"`
	TokenHash string `bson:"tokenHash"`
	Role      string `bson:"role"`
	CreatedBy string `bson:"createdBy"`
	CreatedAt int64  `bson:"createdAt"` // Unix microseconds, as users and posts
	ExpiresAt int64  `bson:"expiresAt"`
	UsedAt    *int64 `bson:"usedAt"`
	UsedBy    string `bson:"usedBy"`
	RevokedAt *int64 `bson:"revokedAt"`
}

func (d inviteDoc) invite() blog.Invite {
	inv := blog.Invite{
		ID:        d.ID,
		Role:      blog.Role(d.Role),
		CreatedBy: d.CreatedBy,
		CreatedAt: fromMicros(d.CreatedAt),
		ExpiresAt: fromMicros(d.ExpiresAt),
		UsedBy:    d.UsedBy,
	}
	if d.UsedAt != nil {
		t := fromMicros(*d.UsedAt)
		inv.UsedAt = &t
	}
	if d.RevokedAt != nil {
		t := fromMicros(*d.RevokedAt)
		inv.RevokedAt = &t
	}
	return inv
}

// CreateInvite implements blog.InviteStore.
func (s *Store) CreateInvite(ctx context.Context, n blog.NewInvite) (blog.Invite, error) {
	now := blog.Now()
	if err := n.Validate(now); err != nil {
		return blog.Invite{}, err
	}
	if n.CreatedBy != "" {
		if _, err := s.findUser(ctx, bson.M{"_id": n.CreatedBy}, false); err != nil {
			return blog.Invite{}, fmt.Errorf("create invite: %w", err)
		}
	}
	d := inviteDoc{
		ID:        blog.NewID(),
		TokenHash: n.TokenHash,
		Role:      string(n.Role),
		CreatedBy: n.CreatedBy,
		CreatedAt: micros(now),
		ExpiresAt: micros(n.ExpiresAt),
	}
	_, err := s.invites.InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return blog.Invite{}, blog.ErrInviteExists
	}
	if err != nil {
		return blog.Invite{}, fmt.Errorf("create invite: %w", unavailable(err))
	}
	return d.invite(), nil
}

// ListInvites implements blog.InviteStore.
func (s *Store) ListInvites(ctx context.Context) ([]blog.Invite, error) {
	invites, err := findAll(ctx, s.invites, bson.M{}, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(blog.MaxListInvites).
		SetProjection(bson.M{"tokenHash": 0}), inviteDoc.invite)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return invites, nil
}

// RevokeInvite implements blog.InviteStore.
func (s *Store) RevokeInvite(ctx context.Context, id string) error {
	if !blog.ValidID(id) {
		return blog.ErrInviteNotFound
	}
	res, err := s.invites.UpdateOne(ctx,
		bson.M{"_id": id, "usedAt": nil, "revokedAt": nil},
		bson.M{"$set": bson.M{"revokedAt": micros(blog.Now())}})
	if err != nil {
		return fmt.Errorf("revoke invite: %w", unavailable(err))
	}
	if res.MatchedCount > 0 {
		return nil
	}
	// Already used or revoked (nothing to do), or no such invite.
	n, err := s.invites.CountDocuments(ctx, bson.M{"_id": id})
	if err != nil {
		return fmt.Errorf("revoke invite: %w", unavailable(err))
	}
	if n == 0 {
		return blog.ErrInviteNotFound
	}
	return nil
}

// usableInvite matches the invite with tokenHash if it can still be
// redeemed at now.
func usableInvite(tokenHash string, now time.Time) bson.M {
	return bson.M{"tokenHash": tokenHash, "usedAt": nil, "revokedAt": nil, "expiresAt": bson.M{"$gt": micros(now)}}
}

// InviteUsable implements blog.InviteStore: one indexed count that takes
// no lock.
func (s *Store) InviteUsable(ctx context.Context, tokenHash string, now time.Time) error {
	if !blog.ValidInviteTokenHash(tokenHash) {
		return blog.ErrInviteInvalid
	}
	n, err := s.invites.CountDocuments(ctx, usableInvite(tokenHash, now), options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("invite usable: %w", unavailable(err))
	}
	if n == 0 {
		return blog.ErrInviteInvalid
	}
	return nil
}

// RedeemInvite implements blog.InviteStore. Without multi-document
// transactions it works under the invite's lease lock (see lock), in
// single-document steps: read the invite, mark it used, create the
// account, and unmark the invite if that fails. A second redeem waits for
// the lock and then reads the invite used. A process that dies between
// the mark and the account leaves the invite used with no account behind
// it; the admin makes another.
func (s *Store) RedeemInvite(ctx context.Context, tokenHash string, nu blog.NewUser, now time.Time) (blog.User, error) {
	if !blog.ValidInviteTokenHash(tokenHash) {
		return blog.User{}, blog.ErrInviteInvalid
	}
	u, err := s.redeem(ctx, tokenHash, nu, now)
	if err != nil {
		return blog.User{}, fmt.Errorf("redeem invite: %w", err)
	}
	return u, nil
}

func (s *Store) redeem(ctx context.Context, tokenHash string, nu blog.NewUser, now time.Time) (blog.User, error) {
	usable := usableInvite(tokenHash, now)
	var d inviteDoc
	// A first look outside the lock, so that unknown and spent tokens
	// (every guess) cost no lock.
	err := s.invites.FindOne(ctx, usable).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return blog.User{}, blog.ErrInviteInvalid
	} else if err != nil {
		return blog.User{}, unavailable(err)
	}
	work, release, err := s.lock(ctx, "invite:"+d.ID)
	if err != nil {
		return blog.User{}, err
	}
	defer release()
	// Again under the lock: an earlier holder may have used it.
	err = s.invites.FindOne(work, usable).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return blog.User{}, blog.ErrInviteInvalid
	} else if err != nil {
		return blog.User{}, unavailable(err)
	}
	userID := blog.NewID()
	if _, err := s.invites.UpdateOne(work, bson.M{"_id": d.ID},
		bson.M{"$set": bson.M{"usedAt": micros(blog.Now()), "usedBy": userID}}); err != nil {
		return blog.User{}, unavailable(err)
	}
	nu.Role = blog.Role(d.Role)
	u, err := s.insertUser(work, userID, nu)
	if err != nil {
		// Give the invite back, whether or not ctx has ended: a name
		// already taken must not cost its holder the invite.
		_, uerr := s.invites.UpdateOne(context.WithoutCancel(ctx),
			bson.M{"_id": d.ID, "usedBy": userID},
			bson.M{"$set": bson.M{"usedAt": nil, "usedBy": ""}})
		if uerr != nil {
			err = errors.Join(err, fmt.Errorf("give the invite back: %w", unavailable(uerr)))
		}
		return blog.User{}, err
	}
	return u, nil
}
