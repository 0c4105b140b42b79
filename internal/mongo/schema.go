package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Index names. Fixed names make start-up idempotent: creating an index
// that exists with the same name and keys does nothing.
const (
	indexUsername    = "usernameKey_unique"
	indexSkeleton    = "usernameSkeleton_unique"
	indexFeed        = "createdAt_-1__id_-1"
	indexAuthor      = "author_1"
	indexAuthorFeed  = "author_1_createdAt_-1__id_-1"
	indexRevokedTTL  = "expiresAt_ttl"
	indexRevoked     = "expiresAt_1"
	indexSessionsTTL = "expiry_ttl"
	indexSessions    = "expiry_1"

	indexInviteHash    = "tokenHash_unique"
	indexInvitesNewest = "createdAt_-1__id_-1"
)

// validators are the $jsonSchema each collection's documents must match,
// where the server enforces them. They guard against a future bug or a
// hand edit writing a document the store could not read back.
var validators = map[string]bson.M{
	usersColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "username", "usernameKey", "passwordHash", "role", "disabled", "tokenVersion", "createdAt"},
		"properties": bson.M{
			"_id":         bson.M{"bsonType": "string"},
			"username":    bson.M{"bsonType": "string"},
			"usernameKey": bson.M{"bsonType": "string"},
			// Not required: accounts from before it get theirs at start-up.
			"usernameSkeleton": bson.M{"bsonType": "string"},
			"passwordHash":     bson.M{"bsonType": "string"},
			"role":             bson.M{"enum": bson.A{"author", "admin"}},
			"disabled":         bson.M{"bsonType": "bool"},
			"tokenVersion":     bson.M{"bsonType": bson.A{"int", "long"}, "minimum": 0},
			"createdAt":        bson.M{"bsonType": "long"},
			// Not required: accounts without a second factor have none.
			"totpSecret":    bson.M{"bsonType": "string"},
			"totpEnabled":   bson.M{"bsonType": "bool"},
			"totpLastStep":  bson.M{"bsonType": bson.A{"int", "long"}, "minimum": 0},
			"recoveryCodes": bson.M{"bsonType": "array", "items": bson.M{"bsonType": "string"}},
		},
	},
	postsColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "author", "title", "content", "contentHtml", "createdAt", "updatedAt"},
		"properties": bson.M{
			"_id":         bson.M{"bsonType": "string"},
			"author":      bson.M{"bsonType": "string"},
			"title":       bson.M{"bsonType": "string"},
			"content":     bson.M{"bsonType": "string"},
			"contentHtml": bson.M{"bsonType": "string"},
			"createdAt":   bson.M{"bsonType": "long"},
			"updatedAt":   bson.M{"bsonType": "long"},
			// Not required: posts from before drafts have neither and
			// read as published.
			"status":      bson.M{"enum": bson.A{"draft", "published"}},
			"publishedAt": bson.M{"bsonType": "long"},
		},
	},
	revocationsColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "expiresAt"},
		"properties": bson.M{
			"_id":       bson.M{"bsonType": "string"},
			"expiresAt": bson.M{"bsonType": "date"},
		},
	},
	invitesColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "tokenHash", "role", "createdBy", "createdAt", "expiresAt", "usedAt", "usedBy", "revokedAt"},
		"properties": bson.M{
			"_id":       bson.M{"bsonType": "string"},
			"tokenHash": bson.M{"bsonType": "string"},
			"role":      bson.M{"enum": bson.A{"author", "admin"}},
			"createdBy": bson.M{"bsonType": "string"},
			"createdAt": bson.M{"bsonType": "long"},
			"expiresAt": bson.M{"bsonType": "long"},
			"usedAt":    bson.M{"bsonType": bson.A{"long", "null"}},
			"usedBy":    bson.M{"bsonType": "string"},
			"revokedAt": bson.M{"bsonType": bson.A{"long", "null"}},
		},
	},
	settingsColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "title", "description"},
		"properties": bson.M{
			"_id":         bson.M{"enum": bson.A{siteSettingsID}},
			"title":       bson.M{"bsonType": "string"},
			"description": bson.M{"bsonType": "string"},
		},
	},
	locksColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "holder", "until"},
		"properties": bson.M{
			"_id":    bson.M{"bsonType": "string"},
			"holder": bson.M{"bsonType": "string"},
			"until":  bson.M{"bsonType": "long"},
		},
	},
	sessionsColl: {
		"bsonType": "object",
		"required": bson.A{"_id", "data", "expiry"},
		"properties": bson.M{
			"_id":    bson.M{"bsonType": "string"},
			"data":   bson.M{"bsonType": bson.A{"binData", "null"}},
			"expiry": bson.M{"bsonType": "date"},
		},
	},
}

// ensureSchema gives every collection its validator and indexes. It is
// idempotent, and safe when several instances start together.
func (s *Store) ensureSchema(ctx context.Context) error {
	validated := true
	for _, name := range []string{usersColl, postsColl, revocationsColl, sessionsColl, invitesColl, settingsColl, locksColl} {
		ok, err := s.ensureValidator(ctx, name, validators[name])
		if err != nil {
			return err
		}
		validated = validated && ok
	}
	s.features.SchemaValidation = validated

	// Authors were called users before: convert what older versions
	// stored (after the validators, which allow only the new name).
	if _, err := s.users.UpdateMany(ctx, bson.M{"role": "user"}, bson.M{"$set": bson.M{"role": string(blog.RoleAuthor)}}); err != nil {
		return fmt.Errorf("rename role user to author: %w", unavailable(err))
	}

	// Every account needs a usernameSkeleton before its unique index can
	// be built (documents without one would all collide as null).
	if err := s.placeholderSkeletons(ctx); err != nil {
		return err
	}

	// One index per createIndexes command: FerretDB 1.24 drops the
	// connection (a panic in its handler) when one command asks for
	// several indexes that all exist already, as on every restart.
	for _, ix := range []struct {
		coll  *mongo.Collection
		model mongo.IndexModel
	}{
		// Usernames are unique case-insensitively.
		{s.users, mongo.IndexModel{
			Keys:    bson.D{{Key: "usernameKey", Value: 1}},
			Options: options.Index().SetName(indexUsername).SetUnique(true),
		}},
		// No two look-alike usernames (blog.UsernameSkeleton).
		{s.users, mongo.IndexModel{
			Keys:    bson.D{{Key: "usernameSkeleton", Value: 1}},
			Options: options.Index().SetName(indexSkeleton).SetUnique(true),
		}},
		// The feed: newest first, ties broken by _id, matching ListPosts's
		// sort and keyset filter exactly.
		{s.posts, mongo.IndexModel{
			Keys:    bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName(indexFeed),
		}},
		// An author's page and drafts: one author, feed order. Status is
		// left out: published is "not draft" (older posts have none),
		// which no index range expresses, and drafts are few.
		{s.posts, mongo.IndexModel{
			Keys:    bson.D{{Key: "author", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName(indexAuthorFeed),
		}},
		// Invites are looked up by the hash of their token, which is unique.
		{s.invites, mongo.IndexModel{
			Keys:    bson.D{{Key: "tokenHash", Value: 1}},
			Options: options.Index().SetName(indexInviteHash).SetUnique(true),
		}},
		// ListInvites: newest first.
		{s.invites, mongo.IndexModel{
			Keys:    bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName(indexInvitesNewest),
		}},
		// A user's posts (moderation, account deletion later).
		{s.posts, mongo.IndexModel{
			Keys:    bson.D{{Key: "author", Value: 1}},
			Options: options.Index().SetName(indexAuthor),
		}},
	} {
		if _, err := ix.coll.Indexes().CreateOne(ctx, ix.model); err != nil {
			return fmt.Errorf("create index on %s: %w", ix.coll.Name(), unavailable(err))
		}
	}
	// Old look-alike pairs keep their placeholder (see blog.FillSkeletons):
	// they must not stop the server from starting.
	if _, err := blog.FillSkeletons(ctx, skeletonFiller{s.users}); err != nil {
		return err
	}

	ttlRevoked, err := ensureTTL(ctx, s.revocations, "expiresAt", indexRevokedTTL, indexRevoked)
	if err != nil {
		return err
	}
	ttlSessions, err := ensureTTL(ctx, s.sessions, "expiry", indexSessionsTTL, indexSessions)
	if err != nil {
		return err
	}
	s.features.TTLIndexes = ttlRevoked && ttlSessions
	return nil
}

// ensureValidator creates the collection with its validator, or sets the
// validator on an existing collection (collMod), and reports whether the
// collection has it. A server without validators (FerretDB 1.24 answers
// NotImplemented to both create with a validator and collMod) gets the
// collection without one: the store writes only documents of its own
// making, so validation is a safety net, not a requirement. A user without
// the right to collMod keeps whatever validator the collection had.
func (s *Store) ensureValidator(ctx context.Context, name string, schema bson.M) (bool, error) {
	validator := bson.M{"$jsonSchema": schema}
	err := s.db.CreateCollection(ctx, name, options.CreateCollection().
		SetValidator(validator).SetValidationLevel("strict").SetValidationAction("error"))
	switch {
	case err == nil:
		return true, nil
	case notSupported(err):
		return false, nil
	case !hasCode(err, codeNamespaceExists):
		return false, fmt.Errorf("create collection %s: %w", name, unavailable(err))
	}
	// It exists (made by an earlier start, another instance, or an index):
	// bring its validator up to date.
	err = s.db.RunCommand(ctx, bson.D{
		{Key: "collMod", Value: name},
		{Key: "validator", Value: validator},
		{Key: "validationLevel", Value: "strict"},
		{Key: "validationAction", Value: "error"},
	}).Err()
	switch {
	case err == nil:
		return true, nil
	case notSupported(err), hasCode(err, codeUnauthorized):
		return false, nil
	default:
		return false, fmt.Errorf("set validator on %s: %w", name, unavailable(err))
	}
}

// ensureTTL creates a TTL index on field (documents are deleted once the
// date in it has passed) and reports whether it did. A server without TTL
// indexes (FerretDB 1.24 answers NotImplemented to expireAfterSeconds)
// gets a plain index on the field instead, so the periodic prune that then
// does the deleting is an index range scan.
func ensureTTL(ctx context.Context, coll *mongo.Collection, field, ttlName, plainName string) (bool, error) {
	keys := bson.D{{Key: field, Value: 1}}
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    keys,
		Options: options.Index().SetName(ttlName).SetExpireAfterSeconds(0),
	})
	if err == nil {
		return true, nil
	}
	if !notSupported(err) {
		return false, fmt.Errorf("create index %s.%s: %w", coll.Name(), ttlName, unavailable(err))
	}
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    keys,
		Options: options.Index().SetName(plainName),
	}); err != nil {
		return false, fmt.Errorf("create index %s.%s: %w", coll.Name(), plainName, unavailable(err))
	}
	return false, nil
}
