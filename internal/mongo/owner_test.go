package mongo_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
)

// TestRoleRenamedAtStartUp: accounts stored by older versions with the
// "user" role are authors once the store has opened the database.
func TestRoleRenamedAtStartUp(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	id := blog.NewID()
	// As an older version stored it, before the store opens the database.
	if _, err := rawDB(t, url).Collection("users").InsertOne(ctx, bson.M{"_id": id, "username": "writer", "usernameKey": "writer",
		"usernameSkeleton": blog.UsernameSkeleton("writer"), "passwordHash": "h", "role": "user", "disabled": false,
		"tokenVersion": int64(0), "createdAt": blog.Now().UnixMicro()}); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	if u, err := s.UserByID(ctx, id); err != nil || u.Role != blog.RoleAuthor {
		t.Fatalf("user after start-up = %+v, %v; want an author", u, err)
	}
	if users, err := s.ListUsers(ctx); err != nil || len(users) != 1 || users[0].Role != blog.RoleAuthor {
		t.Fatalf("ListUsers = %+v, %v", users, err)
	}
}
