package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
	"github.com/palisade-blog/palisade/internal/sealed"
	"github.com/palisade-blog/palisade/internal/sqlite"
)

// enrolInDir turns TOTP on for the account name in the SQLite database
// in dir, with its secret sealed under key, as the website would.
func enrolInDir(t *testing.T, dir, name string, key []byte) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	keys, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	svc := &account.Service{Store: store, Factors: store, Keys: keys, Log: logging.Discard()}
	u, err := store.UserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.BeginTOTP(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	code, err := otptotp.GenerateCodeCustom(k.Secret, time.Now(), otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmTOTP(t.Context(), u, code); err != nil {
		t.Fatal(err)
	}
}

// beginInDir begins, and leaves unfinished, an authenticator-app setup
// for the account name in the SQLite database in dir.
func beginInDir(t *testing.T, dir, name string, key []byte) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	keys, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	svc := &account.Service{Store: store, Factors: store, Keys: keys, Log: logging.Discard()}
	u, err := store.UserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.BeginTOTP(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}

// twoFactorOf reads name's account and second factor from dir.
func twoFactorOf(t *testing.T, dir, name string) (blog.User, blog.TwoFactor) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	u, err := store.UserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := store.TwoFactor(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u, tf
}

func TestUserTwoFactorCommands(t *testing.T) {
	dir := t.TempDir()
	oldKey, newKey := []byte(apptest.NewSecret()), []byte(apptest.NewSecret())
	withKeys := func(keys ...[]byte) map[string]string {
		var s []string
		for _, k := range keys {
			s = append(s, string(k))
		}
		return map[string]string{"PALISADE_2FA_KEYS": strings.Join(s, ",")}
	}
	cmd := func(env map[string]string, args ...string) (string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(args, "--data-dir", dir, "--log-format", "json"), envOf(env), strings.NewReader(apptest.Password+"\n"), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	if _, _, err := cmd(nil, "user", "create", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cmd(nil, "user", "create", "bob"); err != nil {
		t.Fatal(err)
	}
	enrolInDir(t, dir, "alice", oldKey)
	if out, _, err := cmd(nil, "user", "list"); err != nil || !strings.Contains(out, "2FA") {
		t.Fatalf("user list: %q, %v", out, err)
	}

	t.Run("Rekey", func(t *testing.T) {
		out, _, err := cmd(withKeys(newKey, oldKey), "user", "rekey-2fa")
		if err != nil || !strings.Contains(out, "re-sealed 1 authenticator secret ") {
			t.Fatalf("rekey: %q, %v", out, err)
		}
		_, tf := twoFactorOf(t, dir, "alice")
		newRing, err := sealed.New(newKey)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := sealed.KeyIDOf(tf.TOTPSecret); err != nil || id != newRing.CurrentKeyID() {
			t.Fatalf("secret sealed under %q, %v; want the new key", id, err)
		}
		// Done: the old key can go, and nothing is left to move.
		if out, _, err := cmd(withKeys(newKey), "user", "rekey-2fa"); err != nil || !strings.Contains(out, "re-sealed 0") {
			t.Fatalf("second rekey: %q, %v", out, err)
		}
		// Without the key that sealed it, a secret can't move: said, not
		// hidden.
		if _, _, err := cmd(withKeys([]byte(apptest.NewSecret())), "user", "rekey-2fa"); err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "removed too early") {
			t.Fatalf("rekey without the sealing key: %v", err)
		}
		if _, _, err := cmd(map[string]string{"PALISADE_2FA_KEYS": "too-short"}, "user", "rekey-2fa"); err == nil || !strings.Contains(err.Error(), "PALISADE_2FA_KEYS") {
			t.Fatalf("rekey with a short key: %v", err)
		}
	})

	t.Run("Reset", func(t *testing.T) {
		before, _ := twoFactorOf(t, dir, "alice")
		if !before.TOTP {
			t.Fatal("alice has no TOTP to reset")
		}
		out, logs, err := cmd(nil, "user", "reset-2fa", "ALICE")
		if err != nil || !strings.Contains(out, "reset two-factor sign-in of alice") {
			t.Fatalf("reset-2fa: %q, %v", out, err)
		}
		if !strings.Contains(logs, `"event":"2fa.reset"`) {
			t.Errorf("reset not logged:\n%s", logs)
		}
		after, tf := twoFactorOf(t, dir, "alice")
		if after.TOTP || tf.TOTPSecret != "" || len(tf.RecoveryCodes) != 0 || after.TokenVersion == before.TokenVersion {
			t.Fatalf("after reset: %+v, %+v", after, tf)
		}
		if _, _, err := cmd(nil, "user", "reset-2fa", "alice"); err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "no second factor") {
			t.Fatalf("second reset: %v", err)
		}
		if _, _, err := cmd(nil, "user", "reset-2fa", "nobody"); err == nil || !strings.Contains(err.Error(), "User not found") {
			t.Fatalf("reset of an unknown user: %v", err)
		}
	})

	// Bob began setting up an authenticator app and never finished: the
	// reset discards that, but no factor was on and no session ends, and
	// the command says so rather than claim it ended them.
	t.Run("ResetUnfinishedSetup", func(t *testing.T) {
		beginInDir(t, dir, "bob", oldKey)
		before, tf := twoFactorOf(t, dir, "bob")
		if tf.TOTPSecret == "" || tf.TOTPEnabled {
			t.Fatalf("bob's setup: %+v", tf)
		}
		out, _, err := cmd(nil, "user", "reset-2fa", "bob")
		if err != nil || !strings.Contains(out, "no second factor was on") || strings.Contains(out, "sessions are ended") {
			t.Fatalf("reset-2fa of an unfinished setup: %q, %v", out, err)
		}
		after, tf := twoFactorOf(t, dir, "bob")
		if tf.TOTPSecret != "" || after.TokenVersion != before.TokenVersion {
			t.Fatalf("after reset: secret kept %v, version %d → %d", tf.TOTPSecret != "", before.TokenVersion, after.TokenVersion)
		}
		if _, _, err := cmd(nil, "user", "reset-2fa", "bob"); err == nil || !strings.Contains(err.Error(), "no second factor") {
			t.Fatalf("second reset: %v", err)
		}
	})
}
