package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
)

const changedPassword = "a brand new passphrase, long enough"

// changePassword sends POST /users/me/password.
func (ts *testServer) changePassword(t testing.TB, token, current, next string) *response {
	t.Helper()
	return ts.Post(t, "/users/me/password", token, map[string]string{"currentPassword": current, "newPassword": next})
}

// fieldErrors returns the path: msg of each field error of r.
func fieldErrors(t testing.TB, r *response) []string {
	t.Helper()
	var b struct{ Errors []struct{ Path, Msg string } }
	r.JSON(t, &b)
	var out []string
	for _, e := range b.Errors {
		out = append(out, e.Path+": "+e.Msg)
	}
	return out
}

func TestChangePassword(t *testing.T) { apptest.ForEachStore(t, testChangePassword) }

func testChangePassword(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	token := ts.SignUp(t, "alice")
	other := ts.Login(t, "alice")
	// An older sign-in: the new token keeps its sign-in time, so a
	// password change can't make a stolen token recent.
	old, oldClaims := ts.tokenIssuedAgo(t, "alice", 11*time.Minute)

	t.Run("Refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name          string
			current, next string
			want          string
		}{
			{"MissingCurrent", "", changedPassword, "currentPassword: Required"},
			{"MissingNew", testPassword, "", "newPassword: Required"},
			{"WeakNew", testPassword, "password12345678!", "newPassword: Password is too common: choose another"},
			{"SameAsCurrent", testPassword, testPassword, "newPassword: New password must differ from the current one"},
			{"CurrentTooLong", strings.Repeat("a", 129), changedPassword, "currentPassword: Too long"},
			{"WrongCurrent", "not the password at all", changedPassword, "currentPassword: Current password is wrong"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := ts.changePassword(t, token, tc.current, tc.next).Want(t, http.StatusBadRequest)
				if got := fieldErrors(t, r); len(got) != 1 || got[0] != tc.want {
					t.Fatalf("errors = %q, want %q", got, tc.want)
				}
				if strings.Contains(r.Text(), tc.next) && tc.next != "" || strings.Contains(r.Text(), testPassword) {
					t.Fatalf("a password was echoed: %s", r.Body)
				}
			})
		}
		// None of the refusals changed anything.
		wantStatus(t, ts.Get(t, "/users/me", token), http.StatusOK)
		ts.Login(t, "alice")
	})
	t.Run("NoToken", func(t *testing.T) {
		wantStatus(t, ts.changePassword(t, "", testPassword, changedPassword), http.StatusUnauthorized)
	})

	var b tokenBody
	ts.changePassword(t, old, testPassword, changedPassword).Want(t, http.StatusOK).JSON(t, &b)
	t.Run("EveryOtherTokenEnded", func(t *testing.T) {
		for _, tok := range []string{old, token, other} {
			wantStatus(t, ts.Get(t, "/users/me", tok), http.StatusUnauthorized)
		}
		wantStatus(t, ts.Get(t, "/users/me", b.Token), http.StatusOK)
		got := ts.verifyToken(t, b.Token)
		if !got.IssuedAt.Equal(oldClaims.IssuedAt) || !got.ExpiresAt.Equal(oldClaims.ExpiresAt) {
			t.Fatalf("new token iat %v exp %v, want the old one's %v %v", got.IssuedAt, got.ExpiresAt, oldClaims.IssuedAt, oldClaims.ExpiresAt)
		}
		// Not a recent sign-in: changing factors still asks again.
		wantStatus(t, ts.Post(t, "/users/me/2fa/recovery-codes", b.Token, nil), http.StatusForbidden)
	})
	t.Run("NewPasswordSignsIn", func(t *testing.T) {
		wantStatus(t, ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": testPassword}), http.StatusUnauthorized)
		ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": changedPassword}).Want(t, http.StatusOK)
	})
	t.Run("NoPasswordInLogs", func(t *testing.T) {
		if strings.Contains(ts.Logs.String(), changedPassword) || !strings.Contains(ts.Logs.String(), `"event":"password.changed"`) {
			t.Fatal("the log holds the new password, or lacks the password.changed event")
		}
	})
}

// TestChangePasswordThrottled: a wrong current password counts as a
// failed sign-in; after five, the sixth attempt is refused, even with the
// right password.
func TestChangePasswordThrottled(t *testing.T) { apptest.ForEachStore(t, testChangePasswordThrottled) }

func testChangePasswordThrottled(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_LOGIN_RATE_LIMIT": "5/15m"})
	token := ts.SignUp(t, "alice")
	for range 5 {
		wantStatus(t, ts.changePassword(t, token, "not the password at all", changedPassword), http.StatusBadRequest)
	}
	r := ts.changePassword(t, token, testPassword, changedPassword).Want(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Nothing changed: the token still works.
	wantStatus(t, ts.Get(t, "/users/me", token), http.StatusOK)
}
