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

// Passkeys live in their own collection, one document each, with the
// credential ID as _id: the _id's uniqueness is what keeps one
// authenticator's credential on one account. (An array on the user
// document with a unique multikey index would make adding a passkey and
// bumping the token version one write, but FerretDB 1.24 does not enforce
// a unique index across array elements of different documents, nor has it
// the positional operator or arrayFilters to update one element.)
//
// So adding and removing a passkey write two documents, the passkey and
// the user's token version, and no transaction joins them. They run under
// the account's lease lock, "passkeys:<user id>", which also makes the
// count before an addition and the addition one step, and in the order
// whose interruption is the safe one (see AddPasskey and DeletePasskey).
// A sign-in's compare-and-set on the counter runs under the same lock:
// FerretDB 1.24 does not evaluate an update's filter atomically with a
// concurrent update (see lock), and a counter that two sign-ins both move
// past is what the check is for; and a sign-in must not fall between a
// removal's two writes (see UsePasskey).

// passkeyDoc is a document of the passkeys collection.
type passkeyDoc struct {
	ID              string   `bson:"_id"` // the credential ID
	UserID          string   `bson:"userId"`
	Name            string   `bson:"name"`
	PublicKey       []byte   `bson:"publicKey"`
	AttestationType string   `bson:"attestationType"`
	AAGUID          []byte   `bson:"aaguid,omitempty"`
	Transports      []string `bson:"transports"` // null when the authenticator gave none
	SignCount       int64    `bson:"signCount"`
	BackupEligible  bool     `bson:"backupEligible"`
	BackupState     bool     `bson:"backupState"`
	CreatedAt       int64    `bson:"createdAt"`            // Unix microseconds
	LastUsedAt      int64    `bson:"lastUsedAt,omitempty"` // Unix microseconds; absent until the first sign-in
}

func (d passkeyDoc) passkey() blog.Passkey {
	p := blog.Passkey{
		ID:              d.ID,
		UserID:          d.UserID,
		Name:            d.Name,
		PublicKey:       d.PublicKey,
		AttestationType: d.AttestationType,
		AAGUID:          d.AAGUID,
		Transports:      d.Transports,
		SignCount:       uint32(d.SignCount),
		BackupEligible:  d.BackupEligible,
		BackupState:     d.BackupState,
		CreatedAt:       fromMicros(d.CreatedAt),
	}
	if d.LastUsedAt != 0 {
		p.LastUsedAt = fromMicros(d.LastUsedAt)
	}
	return p
}

// AddPasskey implements blog.PasskeyStore. Under the account's lock: the
// count, then the insert (whose _id refuses a credential ID any account
// has), then the token version. Should the version's write fail, the
// passkey is removed again, so a failed addition leaves nothing behind;
// only an instance that dies between the two leaves a passkey added
// without the bump (every session then simply lives on, as before the
// addition).
func (s *Store) AddPasskey(ctx context.Context, p blog.Passkey) error {
	if !blog.ValidPasskeyName(p.Name) {
		return blog.ErrInvalidPasskeyName
	}
	if p.ID == "" || len(p.PublicKey) == 0 {
		return errors.New("add passkey: no credential ID or public key")
	}
	if !blog.ValidID(p.UserID) {
		return blog.ErrUserNotFound
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = blog.Now()
	}
	d := passkeyDoc{
		ID: p.ID, UserID: p.UserID, Name: p.Name, PublicKey: p.PublicKey, AttestationType: p.AttestationType,
		AAGUID: p.AAGUID, Transports: p.Transports, SignCount: int64(p.SignCount),
		BackupEligible: p.BackupEligible, BackupState: p.BackupState, CreatedAt: micros(p.CreatedAt),
	}
	if !p.LastUsedAt.IsZero() {
		d.LastUsedAt = micros(p.LastUsedAt)
	}
	err := s.withPasskeysLock(ctx, p.UserID, func(work context.Context) error {
		n, err := s.passkeys.CountDocuments(work, bson.M{"userId": p.UserID})
		if err != nil {
			return unavailable(err)
		}
		if n >= blog.MaxPasskeys {
			return blog.ErrTooManyPasskeys
		}
		if _, err := s.passkeys.InsertOne(work, d); mongo.IsDuplicateKeyError(err) {
			return blog.ErrPasskeyExists
		} else if err != nil {
			return unavailable(err)
		}
		if err := s.bumpTokenVersion(work, p.UserID); err != nil {
			// Undone even if work ended; if this fails too, the passkey
			// stays without the bump, as after a crash.
			_, _ = s.passkeys.DeleteOne(context.WithoutCancel(work), bson.M{"_id": p.ID, "userId": p.UserID})
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add passkey: %w", err)
	}
	return nil
}

// withPasskeysLock runs fn under the account's passkeys lock, once the
// account is known to exist (ErrUserNotFound otherwise).
func (s *Store) withPasskeysLock(ctx context.Context, userID string, fn func(work context.Context) error) error {
	work, release, err := s.lock(ctx, "passkeys:"+userID)
	if err != nil {
		return err
	}
	defer release()
	if err := s.userExists(work, userID); err != nil {
		return err
	}
	return fn(work)
}

// userExists returns nil if the account exists, ErrUserNotFound if not.
func (s *Store) userExists(ctx context.Context, userID string) error {
	n, err := s.users.CountDocuments(ctx, bson.M{"_id": userID}, options.Count().SetLimit(1))
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return blog.ErrUserNotFound
	}
	return nil
}

// bumpTokenVersion ends every token and session the account holds.
func (s *Store) bumpTokenVersion(ctx context.Context, userID string) error {
	res, err := s.users.UpdateOne(ctx, bson.M{"_id": userID}, bson.M{"$inc": bson.M{"tokenVersion": 1}})
	if err != nil {
		return unavailable(err)
	}
	if res.MatchedCount == 0 {
		return blog.ErrUserNotFound
	}
	return nil
}

// Passkeys implements blog.PasskeyStore: oldest first, and of two added
// in the same microsecond, the lower credential ID first.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]blog.Passkey, error) {
	if !blog.ValidID(userID) {
		return nil, blog.ErrUserNotFound
	}
	keys, err := findAll(ctx, s.passkeys, bson.M{"userId": userID}, options.Find().
		SetSort(bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(blog.MaxPasskeys), passkeyDoc.passkey)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	// None: is there an account? (Accounts are never deleted, so the
	// answer can't change between the two reads.)
	if err := s.userExists(ctx, userID); err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return nil, nil
}

// PasskeyByID implements blog.PasskeyStore.
func (s *Store) PasskeyByID(ctx context.Context, id string) (blog.Passkey, error) {
	d, err := s.findPasskey(ctx, bson.M{"_id": id})
	if err != nil {
		return blog.Passkey{}, fmt.Errorf("passkey by id: %w", err)
	}
	return d.passkey(), nil
}

func (s *Store) findPasskey(ctx context.Context, filter bson.M) (passkeyDoc, error) {
	var d passkeyDoc
	err := s.passkeys.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return passkeyDoc{}, blog.ErrPasskeyNotFound
	}
	if err != nil {
		return passkeyDoc{}, unavailable(err)
	}
	return d, nil
}

// counterMoves is the counter rule: forward, or 0 on both sides (synced
// passkeys keep 0).
func counterMoves(stored, presented int64) bool {
	return presented > stored || (stored == 0 && presented == 0)
}

// UsePasskey implements blog.PasskeyStore, under the account's passkeys
// lock, the one DeletePasskey holds from its token-version bump to its
// delete. A lock of the passkey's own would let a sign-in run between the
// two: it would read the account at the new version, find the passkey
// still there, and get a session that outlives the removal. Under the
// account's lock a sign-in either finishes before the bump (its session,
// at the old version, is ended by it) or finds the passkey gone. The
// update's filter repeats the counter rule, which is enough on MongoDB by
// itself.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	if id == "" {
		return blog.ErrPasskeyNotFound
	}
	// A passkey never changes account, so its account can be read before
	// the lock; whether it still exists is read again under it.
	owner, err := s.findPasskey(ctx, bson.M{"_id": id})
	if err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	work, release, err := s.lock(ctx, "passkeys:"+owner.UserID)
	if err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	defer release()
	err = func() error {
		d, err := s.findPasskey(work, bson.M{"_id": id})
		if err != nil {
			return err
		}
		n := int64(signCount)
		if !counterMoves(d.SignCount, n) {
			return blog.ErrPasskeyCounter
		}
		rule := bson.M{"$lt": n}
		if n == 0 {
			rule = bson.M{"$eq": int64(0)}
		}
		res, err := s.passkeys.UpdateOne(work, bson.M{"_id": id, "signCount": rule},
			bson.M{"$set": bson.M{"signCount": n, "backupState": backupState, "lastUsedAt": micros(at.UTC().Truncate(time.Microsecond))}})
		if err != nil {
			return unavailable(err)
		}
		if res.MatchedCount == 0 {
			// Removed or moved by another sign-in meanwhile: neither can
			// happen under the lock, but the filter does not rely on it.
			if _, err := s.findPasskey(work, bson.M{"_id": id}); err != nil {
				return err
			}
			return blog.ErrPasskeyCounter
		}
		return nil
	}()
	if err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	return nil
}

// RenamePasskey implements blog.PasskeyStore: one update whose filter
// names the account, so another account's passkey is not found rather
// than renamed. (A passkey never changes account, so this filter needs no
// lock.)
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	if !blog.ValidPasskeyName(name) {
		return blog.ErrInvalidPasskeyName
	}
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	res, err := s.passkeys.UpdateOne(ctx, bson.M{"_id": id, "userId": userID}, bson.M{"$set": bson.M{"name": name}})
	if err != nil {
		return fmt.Errorf("rename passkey: %w", unavailable(err))
	}
	if res.MatchedCount > 0 {
		return nil
	}
	if err := s.userExists(ctx, userID); err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	return blog.ErrPasskeyNotFound
}

// DeletePasskey implements blog.PasskeyStore. Under the account's lock:
// the token version first, then the delete, so an instance that dies
// between them leaves the passkey in place with every session ended (the
// owner removes it again), never a removed passkey whose sessions live
// on. UsePasskey takes the same lock, so no sign-in with the passkey
// falls between the two writes.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	err := s.withPasskeysLock(ctx, userID, func(work context.Context) error {
		if _, err := s.findPasskey(work, bson.M{"_id": id, "userId": userID}); err != nil {
			return err
		}
		if err := s.bumpTokenVersion(work, userID); err != nil {
			return err
		}
		_, err := s.passkeys.DeleteOne(work, bson.M{"_id": id, "userId": userID})
		return unavailable(err)
	})
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	return nil
}

// passkeyCounts returns how many passkeys each of the accounts has
// (absent: none), in one query.
func (s *Store) passkeyCounts(ctx context.Context, userIDs []string) (map[string]int, error) {
	counts := make(map[string]int, len(userIDs))
	if len(userIDs) == 0 {
		return counts, nil
	}
	owners, err := findAll(ctx, s.passkeys, bson.M{"userId": bson.M{"$in": userIDs}},
		options.Find().SetProjection(bson.M{"_id": 0, "userId": 1}),
		func(d passkeyDoc) string { return d.UserID })
	if err != nil {
		return nil, err
	}
	for _, id := range owners {
		counts[id]++
	}
	return counts, nil
}

// withPasskeyCount fills in u.Passkeys. It is counted on each read, not
// kept on the user document: the passkeys are other documents, which no
// write changes together with the user's, so a kept count could drift
// from them; the index on userId makes the count a range of at most
// MaxPasskeys entries.
func (s *Store) withPasskeyCount(ctx context.Context, u blog.User) (blog.User, error) {
	n, err := s.passkeys.CountDocuments(ctx, bson.M{"userId": u.ID})
	if err != nil {
		return blog.User{}, unavailable(err)
	}
	u.Passkeys = int(n)
	return u, nil
}
