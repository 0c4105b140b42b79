package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

const newPassword = "a brand new passphrase, long enough"

// fieldMsg returns the message of err's field path, or "" when err is not
// a validation error of that field.
func fieldMsg(err error, path string) string {
	var verr *blog.ValidationError
	if !errors.As(err, &verr) {
		return ""
	}
	for _, f := range verr.Fields {
		if f.Path == path {
			return f.Msg
		}
	}
	return ""
}

// TestChangePasswordEndsEveryTokenVersion: the right current password
// changes it, the new one signs in and the old one does not, and the
// token version moves on (every session and token issued before ends).
func TestChangePasswordEndsEveryTokenVersion(t *testing.T) {
	f := newFixture(t, 5)
	alice := f.register(t, "alice")
	if err := f.svc.ChangePassword(t.Context(), "client", alice, password, newPassword); err != nil {
		t.Fatalf("honest change: %v", err)
	}
	after := f.mustUser(t, "alice")
	if after.TokenVersion == alice.TokenVersion {
		t.Fatal("token version unchanged: other sessions would stay signed in")
	}
	if _, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: "alice", Password: newPassword}); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
	if _, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: "alice", Password: password}); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("sign-in with the old password: %v, want ErrBadCredentials", err)
	}
	if !strings.Contains(f.logs.String(), `"event":"password.changed"`) {
		t.Fatalf("no password.changed event:\n%s", f.logs.String())
	}
	if strings.Contains(f.logs.String(), newPassword) || strings.Contains(f.logs.String(), password) {
		t.Fatal("a password was logged")
	}
}

// TestChangePasswordWrongCurrentIsCountedAndThrottled: whoever holds a
// session left open must not guess the password through this form any
// faster than at sign-in, and a wrong guess changes nothing.
func TestChangePasswordWrongCurrentIsCountedAndThrottled(t *testing.T) {
	const limit = 5
	f := newFixture(t, limit)
	alice := f.register(t, "alice")
	for i := range limit {
		err := f.svc.ChangePassword(t.Context(), "client", alice, "a wrong password guess", newPassword)
		if fieldMsg(err, "currentPassword") != "Current password is wrong" {
			t.Fatalf("guess %d: %v, want the currentPassword field error", i, err)
		}
	}
	if u := f.mustUser(t, "alice"); u.TokenVersion != alice.TokenVersion {
		t.Fatal("a wrong current password changed the account")
	}
	f.hasher.hashes()
	err := f.svc.ChangePassword(t.Context(), "client", alice, password, newPassword)
	var throttled *account.ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("attempt after %d wrong ones: %v, want throttled", limit, err)
	}
	if v, d := f.hasher.hashes(); v+d != 0 {
		t.Fatal("a throttled attempt cost a password hash")
	}
	t.Run("SignInThrottledToo", func(t *testing.T) {
		// The account's count is sign-in's: the guesses here used it up.
		_, err := f.svc.SignIn(t.Context(), "another client", blog.Credentials{Username: "alice", Password: password})
		if !errors.As(err, &throttled) {
			t.Fatalf("sign-in after %d wrong current passwords: %v, want throttled", limit, err)
		}
	})
}

// TestChangePasswordNewPasswordRules: the new password meets registration's
// rules, under the field newPassword, before any attempt is counted or
// hash spent.
func TestChangePasswordNewPasswordRules(t *testing.T) {
	f := newFixture(t, 1)
	alice := f.register(t, "alice")
	for _, tc := range []struct{ name, current, next, field, msg string }{
		{"MissingCurrent", "", newPassword, "currentPassword", "Required"},
		{"MissingNew", password, "", "newPassword", "Required"},
		{"TooShort", password, "short one", "newPassword", "Password too short: use at least 15 characters"},
		{"TooLong", password, strings.Repeat("abcdefgh", 17), "newPassword", "Password too long: use at most 128 characters"},
		{"Common", password, "password12345678!", "newPassword", "Password is too common: choose another"},
		{"ContainsUsername", password, "alice's own passphrase", "newPassword", "Password must not contain the username"},
		{"SameAsCurrent", password, password, "newPassword", "New password must differ from the current one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.ChangePassword(t.Context(), "client", alice, tc.current, tc.next)
			if got := fieldMsg(err, tc.field); got != tc.msg {
				t.Fatalf("err = %v, want %s: %q", err, tc.field, tc.msg)
			}
			if v, d := f.hasher.hashes(); v+d != 0 {
				t.Fatal("a refused new password cost a hash")
			}
		})
	}
	// The limit is one failure: none of the above counted.
	if err := f.svc.ChangePassword(t.Context(), "client", alice, password, newPassword); err != nil {
		t.Fatalf("honest change after refused ones: %v", err)
	}
}
