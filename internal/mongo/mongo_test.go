package mongo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
	"github.com/palisade-blog/palisade/internal/storetest"
)

func open(t *testing.T, url string) *mongo.Store {
	t.Helper()
	s, err := mongo.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawDB connects to the database of url directly, for checks the store's
// API cannot make.
func rawDB(t *testing.T, url string) *driver.Database {
	t.Helper()
	client, err := mongotest.Client(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(mongotest.DatabaseName(url))
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := blog.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) blog.Store {
		return open(t, mongotest.Database(t))
	})
}

func TestOpenIsIdempotent(t *testing.T) {
	url := mongotest.Database(t)
	first := open(t, url)
	if _, err := first.CreateUser(context.Background(), blog.NewUser{Username: "alice", PasswordHash: "h", Role: blog.RoleAuthor}); err != nil {
		t.Fatal(err)
	}
	second := open(t, url) // collections, validators and indexes exist
	if _, err := second.UserByUsername(context.Background(), "ALICE"); err != nil {
		t.Fatal(err)
	}
	if first.Features() != second.Features() {
		t.Fatalf("features changed on reopen: %+v then %+v", first.Features(), second.Features())
	}
	features, err := mongo.Migrate(context.Background(), url)
	if err != nil || features != first.Features() {
		t.Fatalf("Migrate = %+v, %v", features, err)
	}
}

// Several instances starting together on an empty database each set up
// the collections and indexes without tripping over one another.
func TestOpenConcurrently(t *testing.T) {
	url := mongotest.Database(t)
	const instances = 4
	errs := make(chan error, instances)
	for range instances {
		go func() {
			s, err := mongo.Open(context.Background(), url)
			if err == nil {
				_ = s.Close()
			}
			errs <- err
		}()
	}
	for range instances {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// hostile are strings that mean something to MongoDB's query language, a
// regular expression engine or a dotted field path. Stored and looked up
// through the store, each must be a plain string that matches only itself.
var hostile = []string{
	`{"$gt": ""}`,
	`{"$ne": null}`,
	"$where",
	`$where: function() { return true }`,
	".*",
	"a.b",
	"$ne",
	"$gt",
	"$regex",
	"this.passwordHash",
	`' || '1'=='1`,
}

func TestHostileStringsAreLiteral(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	s := open(t, url)
	alice, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "hash-of-alice", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("NotFoundBeforeCreated", func(t *testing.T) {
		for _, h := range hostile {
			if u, err := s.UserByUsername(ctx, h); blog.ErrorCode(err) != blog.ENOTFOUND {
				t.Fatalf("UserByUsername(%q) = %+v, %v: matched something else", h, u, err)
			}
			if u, _, err := s.Credentials(ctx, h); blog.ErrorCode(err) != blog.ENOTFOUND {
				t.Fatalf("Credentials(%q) = %+v, %v: matched something else", h, u, err)
			}
		}
	})

	users := map[string]blog.User{}
	t.Run("Usernames", func(t *testing.T) {
		for _, h := range hostile {
			u, err := s.CreateUser(ctx, blog.NewUser{Username: h, PasswordHash: "hash-of-" + h, Role: blog.RoleAuthor})
			if err != nil {
				t.Fatalf("create user %q: %v", h, err)
			}
			users[h] = u
		}
		for _, h := range hostile {
			u, err := s.UserByUsername(ctx, h)
			if err != nil || u.ID != users[h].ID || u.Username != h {
				t.Fatalf("UserByUsername(%q) = %+v, %v; want %+v", h, u, err, users[h])
			}
			u, hash, err := s.Credentials(ctx, h)
			if err != nil || u.ID != users[h].ID || hash != "hash-of-"+h {
				t.Fatalf("Credentials(%q) = %+v, %q, %v", h, u, hash, err)
			}
		}
		// Near misses of stored names still match nothing.
		for _, miss := range []string{`{"$gt": "a"}`, "$exists", ".", "a", "ab", "a_b", "$where ", ""} {
			_, err := s.UserByUsername(ctx, miss)
			wantCode(t, err, blog.ENOTFOUND)
		}
		if u, err := s.UserByUsername(ctx, "alice"); err != nil || u.ID != alice.ID {
			t.Fatalf("alice = %+v, %v", u, err)
		}
		// Case-insensitivity still holds for such names.
		if u, err := s.UserByUsername(ctx, "$WHERE"); err != nil || u.ID != users["$where"].ID {
			t.Fatalf("UserByUsername($WHERE) = %+v, %v", u, err)
		}
		_, err := s.CreateUser(ctx, blog.NewUser{Username: "$Where", PasswordHash: "x", Role: blog.RoleAuthor})
		wantCode(t, err, blog.ECONFLICT)
	})

	t.Run("IDs", func(t *testing.T) {
		for _, h := range hostile {
			_, err := s.UserByID(ctx, h)
			wantCode(t, err, blog.ENOTFOUND)
			_, err = s.PostByID(ctx, h)
			wantCode(t, err, blog.ENOTFOUND)
			wantCode(t, s.SetRole(ctx, h, blog.RoleAdmin), blog.ENOTFOUND)
			wantCode(t, s.DisableUser(ctx, h), blog.ENOTFOUND)
			wantCode(t, s.SetPasswordHash(ctx, h, "x", blog.PasswordChanged), blog.ENOTFOUND)
			_, err = s.UpdatePost(ctx, alice, h, blog.PostUpdate{Title: ptr("Renamed")})
			wantCode(t, err, blog.ENOTFOUND)
			wantCode(t, s.DeletePost(ctx, alice, h), blog.ENOTFOUND)
			_, err = s.CreatePost(ctx, blog.NewPost{AuthorID: h, Title: "Hostile author", Content: "Content by a hostile author", ContentHTML: "x"})
			wantCode(t, err, blog.ENOTFOUND)
		}
		if u, err := s.UserByID(ctx, alice.ID); err != nil || u.Disabled || u.Role != blog.RoleAuthor {
			t.Fatalf("alice changed: %+v, %v", u, err)
		}
	})

	t.Run("Posts", func(t *testing.T) {
		for _, h := range hostile {
			// Title and content must pass validation (some of these
			// strings are shorter than a title may be), so they hold h;
			// the HTML, which the store does not validate, is h exactly.
			p, err := s.CreatePost(ctx, blog.NewPost{AuthorID: users[h].ID, Title: "Post by " + h, Content: "Content by " + h, ContentHTML: h})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.PostByID(ctx, p.ID)
			if err != nil || got != p || got.Title != "Post by "+h || got.Content != "Content by "+h || got.ContentHTML != h || got.Author.Username != h {
				t.Fatalf("post by %q = %+v, %v; want %+v", h, got, err, p)
			}
		}
		page, _, err := s.ListPosts(ctx, blog.Page{Limit: 100})
		if err != nil || len(page) != len(hostile) {
			t.Fatalf("feed: %d posts, %v", len(page), err)
		}
		for _, p := range page {
			if p.Title != "Post by "+p.Author.Username {
				t.Fatalf("post %q joined to author %q", p.Title, p.Author.Username)
			}
		}
	})

	t.Run("SessionKeys", func(t *testing.T) {
		exp := time.Now().Add(time.Hour)
		if err := s.SaveSession(ctx, "victim", []byte("victim-data"), exp); err != nil {
			t.Fatal(err)
		}
		for _, h := range hostile {
			if _, found, err := s.FindSession(ctx, h); err != nil || found {
				t.Fatalf("FindSession(%q) before save = %v, %v", h, found, err)
			}
			if err := s.DeleteSession(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		if data, found, err := s.FindSession(ctx, "victim"); err != nil || !found || string(data) != "victim-data" {
			t.Fatalf("deleting hostile keys removed another session: %v", err)
		}
		for _, h := range hostile {
			if err := s.SaveSession(ctx, h, []byte(h), exp); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range hostile {
			if data, found, err := s.FindSession(ctx, h); err != nil || !found || string(data) != h {
				t.Fatalf("FindSession(%q) = %q, %v, %v", h, data, found, err)
			}
		}
		if data, _, err := s.FindSession(ctx, "victim"); err != nil || string(data) != "victim-data" {
			t.Fatalf("victim session overwritten: %q, %v", data, err)
		}
	})

	t.Run("TokenIDs", func(t *testing.T) {
		if err := s.RevokeToken(ctx, "$gt", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, h := range hostile {
			revoked, err := s.TokenRevoked(ctx, h)
			if err != nil || revoked != (h == "$gt") {
				t.Fatalf("TokenRevoked(%q) = %v, %v", h, revoked, err)
			}
		}
		if revoked, err := s.TokenRevoked(ctx, "some-other-jti"); err != nil || revoked {
			t.Fatalf("an unrevoked token is revoked: %v", err)
		}
	})

	t.Run("StoredAsStrings", func(t *testing.T) {
		db := rawDB(t, url)
		for _, h := range hostile {
			n, err := db.Collection("users").CountDocuments(ctx, bson.M{"usernameKey": strings.ToLower(h), "username": h})
			if err != nil || n != 1 {
				t.Fatalf("users with username %q: %d, %v", h, n, err)
			}
			var raw bson.Raw
			if err := db.Collection("users").FindOne(ctx, bson.M{"username": h}).Decode(&raw); err != nil {
				t.Fatal(err)
			}
			if typ := raw.Lookup("username").Type; typ != bson.TypeString {
				t.Fatalf("username %q stored as %v, want a string", h, typ)
			}
		}
	})
}

type indexInfo struct {
	Name               string `bson:"name"`
	Key                bson.D `bson:"key"`
	Unique             bool   `bson:"unique"`
	ExpireAfterSeconds *int64 `bson:"expireAfterSeconds"`
}

func indexes(t *testing.T, db *driver.Database, coll string) map[string]indexInfo {
	t.Helper()
	cur, err := db.Collection(coll).Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var list []indexInfo
	if err := cur.All(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	m := map[string]indexInfo{}
	for _, ix := range list {
		m[ix.Name] = ix
	}
	return m
}

func keyString(d bson.D) string {
	var parts []string
	for _, e := range d {
		parts = append(parts, e.Key+":"+toString(e.Value))
	}
	return strings.Join(parts, ",")
}

func toString(v any) string {
	switch n := v.(type) {
	case int32:
		return map[bool]string{true: "1", false: "-1"}[n > 0]
	case int64:
		return map[bool]string{true: "1", false: "-1"}[n > 0]
	case float64:
		return map[bool]string{true: "1", false: "-1"}[n > 0]
	}
	return "?"
}

func TestIndexes(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	s := open(t, url)
	db := rawDB(t, url)

	users := indexes(t, db, "users")
	if ix, ok := users["usernameKey_unique"]; !ok || !ix.Unique || keyString(ix.Key) != "usernameKey:1" {
		t.Fatalf("users indexes: %+v", users)
	}
	posts := indexes(t, db, "posts")
	if ix, ok := posts["createdAt_-1__id_-1"]; !ok || keyString(ix.Key) != "createdAt:-1,_id:-1" {
		t.Fatalf("posts feed index: %+v", posts)
	}
	if ix, ok := posts["author_1"]; !ok || keyString(ix.Key) != "author:1" {
		t.Fatalf("posts author index: %+v", posts)
	}

	ttl := map[string]string{"revokedTokens": "expiresAt", "sessions": "expiry"}
	if s.Features().TTLIndexes {
		for coll, field := range ttl {
			ix, ok := indexes(t, db, coll)[field+"_ttl"]
			if !ok || keyString(ix.Key) != field+":1" || ix.ExpireAfterSeconds == nil || *ix.ExpireAfterSeconds != 0 {
				t.Fatalf("%s TTL index: %+v", coll, ix)
			}
		}
	} else {
		// The store fell back to plain indexes and periodic pruning; make
		// sure that is because the server refuses TTL indexes, not a bug.
		for coll, field := range ttl {
			if ix, ok := indexes(t, db, coll)[field+"_1"]; !ok || keyString(ix.Key) != field+":1" {
				t.Fatalf("%s has no index on %s: %+v", coll, field, indexes(t, db, coll))
			}
		}
		_, err := db.Collection("ttl_probe").Indexes().CreateOne(ctx, driver.IndexModel{
			Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(0),
		})
		var se driver.ServerError
		if err == nil || !asServerError(err, &se) || !se.HasErrorCode(238) {
			t.Fatalf("store made no TTL index, yet the server answers %v", err)
		}
		t.Log("server has no TTL indexes (NotImplemented): expired revocations and sessions go by PruneRevocations/PruneSessions")
	}

	if s.Features().SchemaValidation {
		cur, err := db.ListCollections(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		var colls []struct {
			Name    string `bson:"name"`
			Options bson.M `bson:"options"`
		}
		if err := cur.All(ctx, &colls); err != nil {
			t.Fatal(err)
		}
		for _, c := range colls {
			if c.Options["validator"] == nil {
				t.Fatalf("collection %s has no validator", c.Name)
			}
		}
		_, err = db.Collection("posts").InsertOne(ctx, bson.M{"_id": "x", "title": 42})
		if err == nil {
			t.Fatal("the validator let a malformed post in")
		}
	} else {
		err := db.CreateCollection(ctx, "validator_probe", options.CreateCollection().SetValidator(bson.M{"$jsonSchema": bson.M{"bsonType": "object"}}))
		var se driver.ServerError
		if err == nil || !asServerError(err, &se) || !se.HasErrorCode(238) {
			t.Fatalf("store set no validators, yet the server answers %v", err)
		}
		t.Log("server has no schema validation (NotImplemented): collections have no validator")
	}
}

func asServerError(err error, target *driver.ServerError) bool {
	return errors.As(err, target)
}

// An unreachable server fails Open within seconds (server selection
// timeout), as EUNAVAILABLE, and no error shows the password. Needs no
// server, so it always runs.
func TestOpenUnreachable(t *testing.T) {
	const secret = "hunter2-secret"
	start := time.Now()
	_, err := mongo.Open(context.Background(), "mongodb://palisade:"+secret+"@127.0.0.1:1/palisade")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("opened a database on a dead port")
	}
	if elapsed > 10*time.Second {
		t.Fatalf("Open took %v to fail", elapsed)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error shows the password: %v", err)
	}
	wantCode(t, err, blog.EUNAVAILABLE)
	t.Logf("failed in %v: %v", elapsed.Round(time.Millisecond), err)

	for _, bad := range []string{
		"mongodb://palisade:" + secret + "@127.0.0.1:1/db?authMechanism=BOGUS",
		"mongodb://palisade:" + secret + "@127.0.0.1:99999/db",
		"mongodb://palisade:" + secret + "@/db",
		"postgres://palisade:" + secret + "@127.0.0.1/db",
	} {
		_, err := mongo.Open(context.Background(), bad)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("Open(bad URL) error = %v", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestLegacyLookAlikesKeepWorking: accounts from before look-alikes were
// refused get their skeleton at start-up; an old look-alike pair does not
// stop the server starting, both accounts keep working, and the older
// one's skeleton blocks new look-alikes.
func TestLegacyLookAlikesKeepWorking(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	s, err := mongo.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "h1", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// As the database was before: no skeletons or their index, and a
	// look-alike pair.
	users := rawDB(t, url).Collection("users")
	if err := users.Indexes().DropOne(ctx, "usernameSkeleton_unique"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.UpdateMany(ctx, bson.M{}, bson.M{"$unset": bson.M{"usernameSkeleton": ""}}); err != nil {
		t.Fatal(err)
	}
	lookAlikeID := blog.NewID()
	if _, err := users.InsertOne(ctx, bson.M{"_id": lookAlikeID, "username": "aIice", "usernameKey": "aiice", "passwordHash": "h2",
		"role": "author", "disabled": false, "tokenVersion": int64(0), "createdAt": alice.CreatedAt.UnixMicro() + 1}); err != nil {
		t.Fatal(err)
	}

	s = open(t, url)
	for name, id := range map[string]string{"alice": alice.ID, "aIice": lookAlikeID} {
		if u, _, err := s.Credentials(ctx, name); err != nil || u.ID != id {
			t.Fatalf("%s after start-up = %+v, %v", name, u, err)
		}
	}
	_, err = s.CreateUser(ctx, blog.NewUser{Username: "a1ice", PasswordHash: "x", Role: blog.RoleAuthor})
	wantCode(t, err, blog.ECONFLICT)
	if _, err := s.CreateUser(ctx, blog.NewUser{Username: "alicia", PasswordHash: "x", Role: blog.RoleAuthor}); err != nil {
		t.Fatal(err)
	}
	// A second start with the pair still there is as good as the first.
	open(t, url)
}
