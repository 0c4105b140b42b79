package mongo_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
)

// TestAccountsFromBeforeTwoFactor: an account stored before second
// factors (no totp fields at all) reads as having none, is not listed for
// re-sealing, refuses codes, and can set one up.
func TestAccountsFromBeforeTwoFactor(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	id := blog.NewID()
	if _, err := rawDB(t, url).Collection("users").InsertOne(ctx, bson.M{"_id": id, "username": "writer", "usernameKey": "writer",
		"usernameSkeleton": blog.UsernameSkeleton("writer"), "passwordHash": "h", "role": "author", "disabled": false,
		"tokenVersion": int64(0), "createdAt": blog.Now().UnixMicro()}); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	if u, err := s.UserByID(ctx, id); err != nil || u.TOTP {
		t.Fatalf("old account = %+v, %v; want no TOTP", u, err)
	}
	if f, err := s.TwoFactor(ctx, id); err != nil || f.TOTPSecret != "" || f.TOTPEnabled || f.TOTPLastStep != 0 || len(f.RecoveryCodes) != 0 {
		t.Fatalf("old account's second factor = %+v, %v", f, err)
	}
	if ids, err := s.TOTPUsers(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("TOTPUsers = %v, %v; want none", ids, err)
	}
	wantCode(t, s.UseTOTPStep(ctx, id, 1), blog.EUNAUTHORIZED)
	wantCode(t, s.UseRecoveryCode(ctx, id, "code"), blog.EUNAUTHORIZED)
	wantCode(t, s.ReplaceRecoveryCodes(ctx, id, []string{"code"}), blog.ECONFLICT)
	if err := s.DisableTOTP(ctx, id); err != nil {
		t.Fatal(err)
	}

	if err := s.BeginTOTP(ctx, id, "sealed"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableTOTP(ctx, id, "sealed", 5, []string{"c1", "c2"}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.UserByID(ctx, id); err != nil || !u.TOTP || u.TokenVersion != 1 {
		t.Fatalf("after enabling: %+v, %v", u, err)
	}
}

// TestRecoveryCodeHashesAreLiteral: a "hash" that looks like an operator
// or a pattern matches only itself, so it uses up no code.
func TestRecoveryCodeHashesAreLiteral(t *testing.T) {
	ctx := context.Background()
	s := open(t, mongotest.Database(t))
	u, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "h", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.BeginTOTP(ctx, u.ID, "sealed"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableTOTP(ctx, u.ID, "sealed", 5, []string{"c1", "c2", "c3"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range hostile {
		wantCode(t, s.UseRecoveryCode(ctx, u.ID, h), blog.EUNAUTHORIZED)
		wantCode(t, s.ResealTOTP(ctx, u.ID, h, "taken over"), "")
	}
	f, err := s.TwoFactor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.RecoveryCodes) != 3 || f.TOTPSecret != "sealed" {
		t.Fatalf("after hostile codes: %+v", f)
	}
	if err := s.UseRecoveryCode(ctx, u.ID, "c2"); err != nil { // the honest one still works
		t.Fatal(err)
	}
}
