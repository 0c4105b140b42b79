package api_test

import (
	"net/http"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// BenchmarkLogin compares a wrong password with an unknown user at
// production argon2id cost. Both hash once, so their times should match:
// compare them side by side from one run (benchstat), never in a timed
// test.
func BenchmarkLogin(b *testing.B) {
	ts := wrap(b, apptest.StartWithHasher(b, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "1000000000/1s", "PALISADE_RATE_LIMIT": "1000000000/1s"}, nil))
	ts.Register(b, "alice")
	for _, bc := range []struct{ name, user, password string }{
		{"WrongPassword", "alice", "wrong " + testPassword},
		{"UnknownUser", "nobody", "wrong " + testPassword},
		{"Success", "alice", testPassword},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				r := ts.Post(b, "/auth/login", "", map[string]string{"username": bc.user, "password": bc.password})
				if r.Status != http.StatusOK && r.Status != http.StatusUnauthorized {
					b.Fatalf("status %d", r.Status)
				}
			}
		})
	}
}
