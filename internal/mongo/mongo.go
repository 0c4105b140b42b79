// Package mongo implements Palisade's store on MongoDB (or a server that
// speaks its wire protocol, such as FerretDB) with the official Go driver,
// go.mongodb.org/mongo-driver/v2.
//
// # Documents
//
// Eight collections, in the database named by the URL's path ("palisade"
// if it names none):
//
//	users          {_id, username, usernameKey, passwordHash, role, disabled, tokenVersion, createdAt,
//	                totpSecret, totpEnabled, totpLastStep, recoveryCodes} (the last four only with a second factor)
//	posts          {_id, author, title, content, contentHtml, createdAt, updatedAt}
//	revokedTokens  {_id: token ID, expiresAt}
//	sessions       {_id: key, data, expiry}
//	invites        {_id, tokenHash, role, createdBy, createdAt, expiresAt, usedAt, usedBy, revokedAt}
//	settings       {_id: "site", title, description}
//	passkeys       {_id: credential ID, userId, name, publicKey, attestationType, aaguid, transports,
//	                signCount, backupEligible, backupState, createdAt, lastUsedAt}
//	locks          {_id: "admins" | "invite:<id>" | "2fa:<user id>" | "passkeys:<user id>" |
//	                "passkey:<credential id>" | "lease:<name>", holder, until}
//
// IDs are blog.NewID strings. A post's author is the author's user _id, a
// reference as in a mongoose model; reads join the username in with one
// extra query per page, never one per post (see ListPosts).
//
// Timestamps of users and posts are int64 Unix microseconds, not BSON
// dates: a BSON date holds milliseconds, and blog.Now has microseconds,
// so a date would not give back the time it was given (a post read back
// would differ from the one created) and posts made within one millisecond
// would share a sort key that the cursor, which has microseconds, cannot
// step past exactly. The integer is exact, orders the feed as the SQL
// stores do, and is what the keyset index is on. Expiry times
// (revokedTokens.expiresAt, sessions.expiry) are BSON dates, which TTL
// indexes require; there a millisecond is no matter.
//
// # Injection
//
// NoSQL injection is impossible by construction: every filter and update
// is a bson.M or bson.D built in this package from typed Go values (string,
// int64, bool, time.Time from the blog types), with field names that are
// constants of this package. No filter, update or pipeline is ever decoded
// from client input, so a username, ID or title such as `{"$gt": ""}`,
// "$where" or ".*" is a BSON string compared for equality, and matches only
// itself. No query uses $where, $expr, $regex or an aggregation expression
// that could read a string as an operator or field path.
//
// # Without transactions
//
// Every write touches one document, which MongoDB and FerretDB apply
// atomically, so the store needs no multi-document transactions (FerretDB
// 1.x has none); adding or removing a passkey, which writes the passkey and
// the account's token version, orders its two writes so that an
// interruption leaves the safe state (see passkey.go). Where a check precedes a write, the write's filter repeats
// what the check relied on; see UpdatePost and CreatePost. Operations that
// span documents (the last-admin guard, the first-admin claim, redeeming
// an invite) take a lease lock, a document whose insert is atomic (see
// lock).
//
// # What the server must support
//
// Unique and compound indexes, find with $or/$in/$lt, sort, limit and
// projection, findAndModify, $set/$inc and upserts. The store also asks for
// $jsonSchema validators and TTL indexes, and works without them where the
// server refuses them with NotImplemented, as FerretDB 1.24 does (see
// Features): expired revocations and sessions are then removed only by
// PruneRevocations and PruneSessions, which the server runs periodically
// anyway, and FindSession checks the expiry itself in every case.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/palisade-blog/palisade/internal/blog"
)

// DefaultDatabase is the database used when the URL names none.
const DefaultDatabase = "palisade"

// Timeouts applied unless the URL sets its own (serverSelectionTimeoutMS,
// connectTimeoutMS): an unreachable server fails an operation in seconds,
// not the driver's default 30 s.
const (
	serverSelectionTimeout = 5 * time.Second
	connectTimeout         = 5 * time.Second
)

// Collection names.
const (
	usersColl       = "users"
	postsColl       = "posts"
	revocationsColl = "revokedTokens"
	sessionsColl    = "sessions"
	invitesColl     = "invites"
	settingsColl    = "settings"
	locksColl       = "locks"
	passkeysColl    = "passkeys"
)

// Features says which optional server features the store could set up.
type Features struct {
	// SchemaValidation is true if every collection has the store's
	// $jsonSchema validator.
	SchemaValidation bool
	// TTLIndexes is true if the server deletes expired revocations and
	// sessions by itself (TTL indexes on expiresAt and expiry).
	TTLIndexes bool
}

// Store is the MongoDB implementation of blog.Store.
type Store struct {
	client      *mongo.Client
	db          *mongo.Database
	users       *mongo.Collection
	posts       *mongo.Collection
	revocations *mongo.Collection
	sessions    *mongo.Collection
	invites     *mongo.Collection
	settings    *mongo.Collection
	locks       *mongo.Collection
	passkeys    *mongo.Collection
	features    Features
	lockBusy    func(id string) // tests only: called when lock finds id held
}

var _ blog.Store = (*Store)(nil)

// Open connects to the server at url (mongodb:// or mongodb+srv://; the
// path names the database), checks that it answers, and creates the
// collections' validators and indexes it lacks. Errors never contain the
// URL's password.
func Open(ctx context.Context, url string) (*Store, error) {
	cs, err := connstring.ParseAndValidate(url)
	if err != nil {
		// The parser's errors can quote parts of the URL.
		return nil, errors.New("PALISADE_DATABASE_URL: not a valid mongodb:// URL")
	}
	s, err := open(ctx, url, cs)
	if err != nil {
		return nil, redact(err, url, cs)
	}
	return s, nil
}

// Migrate creates the collections' validators and indexes the database
// lacks, as Open does, and reports which optional features the server
// took (for the migrate command; Open needs no separate step).
func Migrate(ctx context.Context, url string) (Features, error) {
	s, err := Open(ctx, url)
	if err != nil {
		return Features{}, err
	}
	defer func() { _ = s.Close() }() // the collections and indexes are in place: a failed disconnect loses nothing
	return s.Features(), nil
}

func open(ctx context.Context, url string, cs *connstring.ConnString) (*Store, error) {
	name := cs.Database
	if name == "" {
		name = DefaultDatabase
	}
	// ApplyURI sets only what the URL specifies, so its timeouts win over
	// these defaults.
	opts := options.Client().
		SetAppName("palisade").
		SetServerSelectionTimeout(serverSelectionTimeout).
		SetConnectTimeout(connectTimeout).
		ApplyURI(url)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to mongodb: %w", unavailable(err))
	}
	s := &Store{client: client, db: client.Database(name)}
	s.users = s.db.Collection(usersColl)
	s.posts = s.db.Collection(postsColl)
	s.revocations = s.db.Collection(revocationsColl)
	s.sessions = s.db.Collection(sessionsColl)
	s.invites = s.db.Collection(invitesColl)
	s.settings = s.db.Collection(settingsColl)
	s.locks = s.db.Collection(locksColl)
	s.passkeys = s.db.Collection(passkeysColl)
	// Connect does not wait for the server; Ping does, for at most the
	// server selection timeout.
	if err := client.Ping(ctx, nil); err != nil {
		_ = s.Close() // the ping error is the one to report
		return nil, fmt.Errorf("connect to mongodb: %w", unavailable(err))
	}
	if err := s.ensureSchema(ctx); err != nil {
		_ = s.Close() // the schema error is the one to report
		return nil, err
	}
	return s, nil
}

// Features reports which optional server features the store set up.
func (s *Store) Features() Features { return s.features }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("ping mongodb: %w", unavailable(err))
	}
	return nil
}

// Close disconnects, waiting a few seconds at most for operations in
// flight.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("close mongodb: %w", err)
	}
	return nil
}

// redact returns err with the URL's password (and the whole user-info
// part, as written) masked. The driver does not put credentials in its
// errors as far as we know; this makes sure of it.
func redact(err error, url string, cs *connstring.ConnString) error {
	if err == nil {
		return nil
	}
	var secrets []string
	if cs.Password != "" {
		secrets = append(secrets, cs.Password)
	}
	if _, rest, ok := strings.Cut(url, "://"); ok {
		hosts, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(hosts, "@"); at > 0 && strings.Contains(hosts[:at], ":") {
			secrets = append(secrets, hosts[:at])
		}
	}
	msg := err.Error()
	leaked := false
	for _, secret := range secrets {
		if strings.Contains(msg, secret) {
			msg, leaked = strings.ReplaceAll(msg, secret, "xxxxx"), true
		}
	}
	if !leaked {
		return err
	}
	// Keep the error's code, drop the chain that holds the secret.
	if code := blog.ErrorCode(err); code != blog.EINTERNAL {
		return fmt.Errorf("%w: %s", blog.Errorf(code, "%s", blog.ErrorMessage(err)), msg)
	}
	return errors.New(msg)
}

// findAll reads every document filter and opts select from coll (opts
// bound how many: the callers list at most blog.MaxListUsers or
// MaxListInvites) and converts each with conv. A lost server is
// blog.ErrStoreUnavailable, as everywhere in this package.
func findAll[D, T any](ctx context.Context, coll *mongo.Collection, filter any, opts *options.FindOptionsBuilder, conv func(D) T) ([]T, error) {
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, unavailable(err)
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err)
	}
	out := make([]T, len(docs))
	for i, d := range docs {
		out[i] = conv(d)
	}
	return out, nil
}
