package mongo_test

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
)

// TestUsePasskeyWaitsForTheAccountsLock: a sign-in's UsePasskey waits for
// the account's passkeys lock, which DeletePasskey holds from its
// token-version bump to its delete. With a lock of the passkey's own, a
// sign-in fell between the two: it read the account at the new version,
// found the passkey, and kept a session after the removal. Here the lock is
// held by the test in the removal's place: UsePasskey must wait (the store
// reports the busy lock) and, once the passkey is deleted and the lock
// released, find it gone.
func TestUsePasskeyWaitsForTheAccountsLock(t *testing.T) {
	ctx := context.Background()
	url := mongotest.Database(t)
	s := open(t, url)
	u, err := s.CreateUser(ctx, blog.NewUser{Username: "alice", PasswordHash: "h", Role: blog.RoleAuthor})
	if err != nil {
		t.Fatal(err)
	}
	p := blog.Passkey{ID: "cred-alice", UserID: u.ID, Name: "Phone", PublicKey: []byte{1, 2, 3},
		AttestationType: "none", AAGUID: make([]byte, 16), CreatedAt: blog.Now()}
	if err := s.AddPasskey(ctx, p); err != nil {
		t.Fatal(err)
	}

	lockID := "passkeys:" + u.ID
	busy := make(chan struct{}, 1)
	s.OnLockBusy(func(id string) {
		if id == lockID {
			select {
			case busy <- struct{}{}:
			default:
			}
		}
	})
	release, err := s.HoldLock(ctx, lockID)
	if err != nil {
		t.Fatal(err)
	}
	used := make(chan error, 1)
	go func() { used <- s.UsePasskey(ctx, p.ID, 0, true, blog.Now()) }()
	select {
	case <-busy:
	case err := <-used:
		release()
		t.Fatalf("UsePasskey ran while the account's passkeys lock was held (err = %v)", err)
	}
	// The removal's delete, done while the lock is held as DeletePasskey
	// does; then the lock is released.
	if _, err := rawDB(t, url).Collection("passkeys").DeleteOne(ctx, bson.M{"_id": p.ID}); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-used; !errors.Is(err, blog.ErrPasskeyNotFound) {
		t.Fatalf("UsePasskey after the removal = %v, want ErrPasskeyNotFound", err)
	}
}
