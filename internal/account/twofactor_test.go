package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sealed"
)

// codeAt is what an authenticator app holding secret shows at time at,
// computed independently of package totp.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := otptotp.GenerateCodeCustom(secret, at, otptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled is an account with TOTP on.
type enrolled struct {
	user     blog.User
	secret   string
	recovery []string
}

// enrol registers name and turns TOTP on with a code of the current step.
func (f *fixture) enrol(t *testing.T, name string) enrolled {
	t.Helper()
	u := f.register(t, name)
	k, err := f.svc.BeginTOTP(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmTOTP(t.Context(), u, codeAt(t, k.Secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	u = f.mustUser(t, name)
	if !u.TOTP {
		t.Fatal("TOTP not on after confirming")
	}
	return enrolled{user: u, secret: k.Secret, recovery: codes}
}

// startSignIn passes the password step of e's account and returns its
// mfaToken.
func (f *fixture) startSignIn(t *testing.T, e enrolled) string {
	t.Helper()
	u, err := f.svc.SignIn(t.Context(), "client", blog.Credentials{Username: e.user.Username, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if !u.HasSecondFactor() {
		t.Fatal("the password step did not say a second factor is needed")
	}
	token, exp, err := f.svc.StartSecondFactor(t.Context(), u)
	if err != nil || !exp.After(f.clock.Now()) {
		t.Fatalf("StartSecondFactor = %v, %v", exp, err)
	}
	return token
}

// finish is FinishSecondFactor from the usual client.
func (f *fixture) finish(t *testing.T, token, code string) (blog.User, error) {
	t.Helper()
	return f.svc.FinishSecondFactor(t.Context(), "client", token, code)
}

func TestEnrolAndSignIn(t *testing.T) {
	f := newFixture(t, 1000)
	u := f.register(t, "alice")
	k, err := f.svc.BeginTOTP(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(k.URL, "Test%20Blog") || !strings.Contains(k.URL, "alice") {
		t.Errorf("otpauth URL %q does not name the blog and the account", k.URL)
	}
	again, err := f.svc.PendingTOTP(t.Context(), u)
	if err != nil || again != k {
		t.Fatalf("PendingTOTP = %+v, %v; want the key just made", again, err)
	}

	t.Run("WrongCodeRefused", func(t *testing.T) {
		wrong := codeAt(t, k.Secret, f.clock.Now().Add(-5*time.Minute))
		if _, err := f.svc.ConfirmTOTP(t.Context(), u, wrong); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("confirm with a wrong code: %v, want ErrBadCode", err)
		}
		if f.mustUser(t, "alice").TOTP {
			t.Fatal("TOTP on after a wrong code")
		}
	})

	confirmCode := codeAt(t, k.Secret, f.clock.Now())
	codes, err := f.svc.ConfirmTOTP(t.Context(), u, confirmCode)
	if err != nil || len(codes) != 10 {
		t.Fatalf("ConfirmTOTP = %d codes, %v", len(codes), err)
	}
	after := f.mustUser(t, "alice")
	if !after.TOTP || after.TokenVersion == u.TokenVersion {
		t.Fatalf("after confirming: TOTP %v, version %d → %d; want on and bumped", after.TOTP, u.TokenVersion, after.TokenVersion)
	}
	if !strings.Contains(f.logs.String(), `"event":"2fa.totp.enabled"`) {
		t.Error("enabling not logged")
	}
	if _, err := f.svc.BeginTOTP(t.Context(), after); !errors.Is(err, blog.ErrTOTPEnabled) {
		t.Errorf("BeginTOTP with TOTP on: %v, want ErrTOTPEnabled", err)
	}
	if n, err := f.svc.RecoveryCodesLeft(t.Context(), after); err != nil || n != 10 {
		t.Errorf("RecoveryCodesLeft = %d, %v", n, err)
	}
	e := enrolled{user: after, secret: k.Secret, recovery: codes}

	t.Run("ConfirmCodeCantSignIn", func(t *testing.T) {
		// The code typed to confirm is used up.
		if _, err := f.finish(t, f.startSignIn(t, e), confirmCode); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("the confirming code signed in: %v", err)
		}
	})
	t.Run("SignIn", func(t *testing.T) {
		f.clock.Add(30 * time.Second)
		got, err := f.finish(t, f.startSignIn(t, e), codeAt(t, e.secret, f.clock.Now()))
		if err != nil || got.ID != after.ID {
			t.Fatalf("FinishSecondFactor = %+v, %v", got, err)
		}
		if !strings.Contains(f.logs.String(), `"event":"login.success","method":"totp"`) {
			t.Errorf("sign-in not logged with its method:\n%s", f.logs.String())
		}
	})
	t.Run("NoSecretOrCodeLogged", func(t *testing.T) {
		logs := f.logs.String()
		for _, s := range append([]string{k.Secret, confirmCode}, codes...) {
			if strings.Contains(logs, s) {
				t.Fatalf("the log holds %q", s)
			}
		}
	})
}

// TestReplayedCodeRefused: a code that signed in once does not again, and
// the attempt is logged as the attack it may be.
func TestReplayedCodeRefused(t *testing.T) {
	f := newFixture(t, 1000)
	e := f.enrol(t, "alice")
	f.clock.Add(30 * time.Second)
	code := codeAt(t, e.secret, f.clock.Now())
	if _, err := f.finish(t, f.startSignIn(t, e), code); err != nil {
		t.Fatal(err)
	}
	if _, err := f.finish(t, f.startSignIn(t, e), code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("replayed code: %v, want ErrBadCode", err)
	}
	if !strings.Contains(f.logs.String(), `"event":"2fa.replay"`) {
		t.Fatalf("replay not logged:\n%s", f.logs.String())
	}
}

// TestClockSkew: one step either way is accepted (a phone a little off,
// a slow typist), two are not.
func TestClockSkew(t *testing.T) {
	f := newFixture(t, 1000)
	e := f.enrol(t, "alice")
	f.clock.Add(10 * time.Minute)
	now := f.clock.Now()
	for _, off := range []time.Duration{-60 * time.Second, 60 * time.Second} {
		if _, err := f.finish(t, f.startSignIn(t, e), codeAt(t, e.secret, now.Add(off))); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("code %v off: %v, want ErrBadCode", off, err)
		}
	}
	// Earlier first: once a step is used, the ones before it are refused.
	for _, off := range []time.Duration{-30 * time.Second, 30 * time.Second} {
		if _, err := f.finish(t, f.startSignIn(t, e), codeAt(t, e.secret, now.Add(off))); err != nil {
			t.Fatalf("code %v off: %v, want accepted", off, err)
		}
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	f := newFixture(t, 1000)
	e := f.enrol(t, "alice")
	typed := " " + strings.ToUpper(e.recovery[3]) + " "
	if _, err := f.finish(t, f.startSignIn(t, e), typed); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if !strings.Contains(f.logs.String(), `"event":"2fa.recovery_used","left":9`) {
		t.Errorf("recovery code use not logged with the count left:\n%s", f.logs.String())
	}
	if _, err := f.finish(t, f.startSignIn(t, e), e.recovery[3]); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("recovery code used twice: %v, want ErrBadCode", err)
	}
	if n, err := f.svc.RecoveryCodesLeft(t.Context(), e.user); err != nil || n != 9 {
		t.Fatalf("RecoveryCodesLeft = %d, %v; want 9", n, err)
	}
	other := f.enrol(t, "bob")
	if _, err := f.finish(t, f.startSignIn(t, other), e.recovery[4]); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("alice's recovery code signed bob in: %v", err)
	}
}

func TestMFAToken(t *testing.T) {
	f := newFixture(t, 1000)
	e := f.enrol(t, "alice")
	next := func() string {
		f.clock.Add(30 * time.Second)
		return codeAt(t, e.secret, f.clock.Now())
	}

	t.Run("SingleUse", func(t *testing.T) {
		token := f.startSignIn(t, e)
		if _, err := f.finish(t, token, next()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.finish(t, token, next()); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("mfaToken used twice: %v, want ErrSignInExpired", err)
		}
	})
	t.Run("WrongCodeKeepsIt", func(t *testing.T) {
		token := f.startSignIn(t, e)
		if _, err := f.finish(t, token, "000000"); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("wrong code: %v", err)
		}
		if _, err := f.finish(t, token, next()); err != nil {
			t.Fatalf("a typo ended the sign-in: %v", err)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		token := f.startSignIn(t, e)
		f.clock.Add(6 * time.Minute)
		if _, err := f.finish(t, token, next()); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("expired mfaToken: %v, want ErrSignInExpired", err)
		}
	})
	t.Run("PasswordChangedSince", func(t *testing.T) {
		token := f.startSignIn(t, e)
		hash, err := f.hasher.Hash(t.Context(), password)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.SetPasswordHash(t.Context(), e.user.ID, hash, blog.PasswordChanged); err != nil {
			t.Fatal(err)
		}
		if _, err := f.finish(t, token, next()); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("mfaToken from before a password change: %v, want ErrSignInExpired", err)
		}
	})
	t.Run("AccessTokenIsNotOne", func(t *testing.T) {
		access, err := auth.NewTokens(auth.TokenConfig{Secret: fixtureJWTSecret, Issuer: "https://blog.example", Audience: "palisade-api", Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		u := f.mustUser(t, "alice")
		token, _, err := access.Issue(u.ID, u.TokenVersion)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.finish(t, token, next()); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("access token taken as an mfaToken: %v", err)
		}
		// And an mfaToken is no access token.
		if _, err := access.Verify(f.startSignIn(t, e)); err == nil {
			t.Fatal("an mfaToken verified as an access token")
		}
	})
	t.Run("Forged", func(t *testing.T) {
		token := f.startSignIn(t, e)
		if _, err := f.finish(t, token+"x", next()); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("forged mfaToken: %v", err)
		}
	})
}

// TestWrongCodesAreThrottled: codes count against the account like
// passwords, and a new password sign-in does not wipe the count.
func TestWrongCodesAreThrottled(t *testing.T) {
	const limit = 5
	f := newFixture(t, limit)
	f.enrol(t, "alice")
	f.clock.Add(30 * time.Second)
	for i := range limit {
		// A fresh password step each time, from other clients: only the
		// account's limit can stop this.
		u, err := f.svc.SignIn(t.Context(), "client"+string(rune('a'+i)), blog.Credentials{Username: "alice", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := f.svc.StartSecondFactor(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.FinishSecondFactor(t.Context(), "client"+string(rune('a'+i)), token, "123456"); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	_, err := f.svc.SignIn(t.Context(), "fresh", blog.Credentials{Username: "alice", Password: password})
	var throttled *account.ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("6th attempt after %d wrong codes: %v, want throttled", limit, err)
	}
	if !strings.Contains(f.logs.String(), `"reason":"second_factor"`) {
		t.Error("wrong codes not logged as failed sign-ins")
	}
}

// TestWrongCodesThrottledOnOneToken: the same holds for guesses on one
// mfaToken.
func TestWrongCodesThrottledOnOneToken(t *testing.T) {
	const limit = 5
	f := newFixture(t, limit)
	e := f.enrol(t, "alice")
	token := f.startSignIn(t, e)
	for i := range limit {
		if _, err := f.finish(t, token, "123456"); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	f.clock.Add(30 * time.Second)
	_, err := f.finish(t, token, codeAt(t, e.secret, f.clock.Now()))
	var throttled *account.ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("6th attempt (right code): %v, want throttled", err)
	}
}

// TestPasswordStepTellsNothing: for an account with a second factor, an
// unknown name and a wrong password still fail alike, before any token.
func TestPasswordStepTellsNothing(t *testing.T) {
	f := newFixture(t, 1000)
	f.enrol(t, "alice")
	for _, cr := range []blog.Credentials{{Username: "alice", Password: "a wrong password guess"}, {Username: "nobody", Password: password}} {
		u, err := f.svc.SignIn(t.Context(), "client", cr)
		if !errors.Is(err, account.ErrBadCredentials) || u.ID != "" {
			t.Fatalf("SignIn(%s) = %+v, %v; want ErrBadCredentials and no user", cr.Username, u, err)
		}
	}
	if strings.Contains(f.logs.String(), "login.password_ok") {
		t.Fatal("a failed password step went on to the second factor")
	}
}

func TestMustEnrol(t *testing.T) {
	f := newFixture(t, 1000)
	author := f.register(t, "author")
	admin := f.register(t, "admin")
	if err := f.store.SetRole(t.Context(), admin.ID, blog.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	admin = f.mustUser(t, "admin")
	enrolledAdmin := f.enrol(t, "boss").user
	if err := f.store.SetRole(t.Context(), enrolledAdmin.ID, blog.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	enrolledAdmin = f.mustUser(t, "boss")
	for _, tc := range []struct {
		policy                      account.Require2FA
		author, admin, enrolledBoss bool
	}{
		{"", false, true, false},
		{account.Require2FAAdmins, false, true, false},
		{account.Require2FAAll, true, true, false},
		{account.Require2FANone, false, false, false},
	} {
		t.Run("Policy"+string(tc.policy), func(t *testing.T) {
			f.svc.Require2FA = tc.policy
			if got := f.svc.MustEnrol(author); got != tc.author {
				t.Errorf("author: %v", got)
			}
			if got := f.svc.MustEnrol(admin); got != tc.admin {
				t.Errorf("admin: %v", got)
			}
			if got := f.svc.MustEnrol(enrolledAdmin); got != tc.enrolledBoss {
				t.Errorf("admin with TOTP: %v", got)
			}
		})
	}
	for _, s := range []string{"admins", "all", "none"} {
		if p, err := account.ParseRequire2FA(s); err != nil || string(p) != s {
			t.Errorf("ParseRequire2FA(%q) = %q, %v", s, p, err)
		}
	}
	if _, err := account.ParseRequire2FA("admin"); err == nil {
		t.Error("ParseRequire2FA took admin")
	}
}

func TestReauthenticate(t *testing.T) {
	f := newFixture(t, 1000)
	plain := f.register(t, "plain")
	e := f.enrol(t, "alice")
	ctx := t.Context()
	if err := f.svc.Reauthenticate(ctx, "client", plain, password, ""); err != nil {
		t.Fatalf("password: %v", err)
	}
	if err := f.svc.Reauthenticate(ctx, "client", plain, "a wrong password guess", ""); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := f.svc.Reauthenticate(ctx, "client", plain, "", "123456"); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("a code for an account without TOTP: %v", err)
	}
	if err := f.svc.Reauthenticate(ctx, "client", e.user, password, ""); err != nil {
		t.Fatalf("password for a TOTP account: %v", err)
	}
	f.clock.Add(30 * time.Second)
	code := codeAt(t, e.secret, f.clock.Now())
	if err := f.svc.Reauthenticate(ctx, "client", e.user, "", code); err != nil {
		t.Fatalf("code: %v", err)
	}
	if err := f.svc.Reauthenticate(ctx, "client", e.user, "", code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("the same code again: %v", err)
	}
	if err := f.svc.Reauthenticate(ctx, "client", e.user, "", e.recovery[0]); err != nil {
		t.Fatalf("recovery code: %v", err)
	}

	t.Run("PasswordKeepsWrongCodesCounted", func(t *testing.T) {
		f := newFixture(t, 3)
		e := f.enrol(t, "dave")
		token := f.startSignIn(t, e)
		for range 2 {
			if _, err := f.finish(t, token, "000000"); !errors.Is(err, account.ErrBadCode) {
				t.Fatal(err)
			}
		}
		if err := f.svc.Reauthenticate(t.Context(), "other", e.user, password, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.finish(t, token, "000000"); !errors.Is(err, account.ErrBadCode) {
			t.Fatal(err)
		}
		var throttled *account.ThrottledError
		if _, err := f.finish(t, token, "000000"); !errors.As(err, &throttled) {
			t.Fatalf("4th wrong code with a password re-authentication between: %v, want throttled", err)
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		f := newFixture(t, 2)
		u := f.register(t, "carol")
		for range 2 {
			if err := f.svc.Reauthenticate(t.Context(), "client", u, "a wrong password guess", ""); !errors.Is(err, account.ErrBadCredentials) {
				t.Fatal(err)
			}
		}
		var throttled *account.ThrottledError
		if err := f.svc.Reauthenticate(t.Context(), "client", u, password, ""); !errors.As(err, &throttled) {
			t.Fatalf("3rd attempt: %v, want throttled", err)
		}
	})
}

func TestRecent(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name   string
		authAt time.Time
		want   bool
	}{
		{"Now", now, true},
		{"NineMinutesAgo", now.Add(-9 * time.Minute), true},
		{"ElevenMinutesAgo", now.Add(-11 * time.Minute), false},
		{"Never", time.Time{}, false},
		{"SkewedAhead", now.Add(2 * time.Second), true},
		{"FarFuture", now.Add(time.Hour), false},
	} {
		if got := account.Recent(tc.authAt, now); got != tc.want {
			t.Errorf("%s: Recent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNoKeysNoEnrolment(t *testing.T) {
	f := newFixture(t, 1000)
	u := f.register(t, "alice")
	for _, keys := range []*sealed.Keyring{nil, {}} {
		f.svc.Keys = keys
		if _, err := f.svc.BeginTOTP(t.Context(), u); !errors.Is(err, account.ErrNoTwoFactorKeys) {
			t.Fatalf("BeginTOTP without keys: %v, want ErrNoTwoFactorKeys", err)
		}
	}
	if tf, err := f.store.TwoFactor(t.Context(), u.ID); err != nil || tf.TOTPSecret != "" {
		t.Fatalf("a secret was stored: %+v, %v", tf, err)
	}
}

// TestKeyRotation: after a new key is put in front, a sign-in re-seals
// its account's secret under it, and rekey does the rest, so the old key
// can go.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, 1000)
	oldKey, newKey := []byte(apptest.NewSecret()), []byte(apptest.NewSecret())
	mustKeys := func(k ...[]byte) *sealed.Keyring {
		kr, err := sealed.New(k...)
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	f.svc.Keys = mustKeys(oldKey)
	alice, bob := f.enrol(t, "alice"), f.enrol(t, "bob")
	f.svc.Keys = mustKeys(newKey, oldKey)
	keyOf := func(id string) string {
		tf, err := f.store.TwoFactor(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		k, err := sealed.KeyIDOf(tf.TOTPSecret)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	f.clock.Add(30 * time.Second)
	if _, err := f.finish(t, f.startSignIn(t, alice), codeAt(t, alice.secret, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if keyOf(alice.user.ID) != f.svc.Keys.CurrentKeyID() {
		t.Fatal("alice's secret was not re-sealed under the new key at sign-in")
	}
	if keyOf(bob.user.ID) == f.svc.Keys.CurrentKeyID() {
		t.Fatal("bob's secret moved without bob")
	}
	n, err := f.svc.RekeyTwoFactor(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("RekeyTwoFactor = %d, %v; want 1 (bob)", n, err)
	}
	f.svc.Keys = mustKeys(newKey)
	f.clock.Add(30 * time.Second)
	if _, err := f.finish(t, f.startSignIn(t, bob), codeAt(t, bob.secret, f.clock.Now())); err != nil {
		t.Fatalf("bob after the old key was removed: %v", err)
	}
	if n, err := f.svc.RekeyTwoFactor(t.Context()); err != nil || n != 0 {
		t.Fatalf("second rekey = %d, %v; want 0", n, err)
	}
}

func TestTurnOffAndReset(t *testing.T) {
	f := newFixture(t, 1000)
	ctx := context.Background()
	e := f.enrol(t, "alice")

	codes, err := f.svc.NewRecoveryCodes(ctx, e.user)
	if err != nil || len(codes) != 10 {
		t.Fatalf("NewRecoveryCodes = %d, %v", len(codes), err)
	}
	u := f.mustUser(t, "alice")
	if u.TokenVersion == e.user.TokenVersion {
		t.Error("new recovery codes did not end other sessions")
	}
	if _, err := f.finish(t, f.startSignIn(t, e), e.recovery[0]); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("an old recovery code still works: %v", err)
	}
	if _, err := f.finish(t, f.startSignIn(t, e), codes[0]); err != nil {
		t.Fatalf("a new recovery code: %v", err)
	}

	if err := f.svc.DisableTOTP(ctx, u); err != nil {
		t.Fatal(err)
	}
	off := f.mustUser(t, "alice")
	if off.TOTP || off.TokenVersion == u.TokenVersion {
		t.Fatalf("after turning off: TOTP %v, version %d → %d", off.TOTP, u.TokenVersion, off.TokenVersion)
	}
	if err := f.svc.DisableTOTP(ctx, off); !errors.Is(err, blog.ErrTOTPOff) {
		t.Errorf("turning off twice: %v, want ErrTOTPOff", err)
	}
	if _, err := f.svc.NewRecoveryCodes(ctx, off); !errors.Is(err, blog.ErrTOTPOff) {
		t.Errorf("recovery codes without TOTP: %v, want ErrTOTPOff", err)
	}
	for _, ev := range []string{"2fa.totp.disabled", "2fa.recovery.regenerated"} {
		if !strings.Contains(f.logs.String(), `"event":"`+ev+`"`) {
			t.Errorf("%s not logged", ev)
		}
	}

	t.Run("Reset", func(t *testing.T) {
		b := f.enrol(t, "bob")
		if wasOn, err := f.svc.ResetTwoFactor(ctx, b.user.ID); err != nil || !wasOn {
			t.Fatalf("ResetTwoFactor = %v, %v; want a factor that was on", wasOn, err)
		}
		after := f.mustUser(t, "bob")
		if after.TOTP || after.TokenVersion == b.user.TokenVersion {
			t.Fatalf("after reset: TOTP %v, version unchanged %v", after.TOTP, after.TokenVersion == b.user.TokenVersion)
		}
		if _, err := f.svc.ResetTwoFactor(ctx, b.user.ID); !errors.Is(err, blog.ErrTOTPOff) {
			t.Fatalf("second reset: %v, want ErrTOTPOff", err)
		}
		if !strings.Contains(f.logs.String(), `"event":"2fa.reset"`) {
			t.Error("reset not logged")
		}
		// Bob signs in with his password alone again.
		u, err := f.svc.SignIn(ctx, "client", blog.Credentials{Username: "bob", Password: password})
		if err != nil || u.HasSecondFactor() {
			t.Fatalf("sign-in after reset: %+v, %v", u, err)
		}
	})
}

// TestSecretWithoutItsKey: an account whose TOTP secret no configured key
// opens (PALISADE_2FA_KEYS unset or rotated too far) has its right code
// answered as a wrong one, counted against the limits, with an error
// logged that says what to fix and never the code; its recovery codes
// still sign it in.
func TestSecretWithoutItsKey(t *testing.T) {
	const limit = 3
	f := newFixture(t, limit)
	e, bob := f.enrol(t, "alice"), f.enrol(t, "bob")
	other, err := sealed.New([]byte(apptest.NewSecret()))
	if err != nil {
		t.Fatal(err)
	}
	for i, keys := range []*sealed.Keyring{nil, other, other} {
		f.svc.Keys = keys
		f.clock.Add(30 * time.Second)
		code := codeAt(t, e.secret, f.clock.Now())
		if _, err := f.finish(t, f.startSignIn(t, e), code); !errors.Is(err, account.ErrBadCode) {
			t.Fatalf("the right code without its key (%d): %v, want ErrBadCode", i, err)
		}
		logs := f.logs.String()
		if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "can't be opened with the configured PALISADE_2FA_KEYS") {
			t.Fatalf("no error logged saying the key is missing:\n%s", logs)
		}
		if strings.Contains(logs, code) || strings.Contains(logs, e.secret) {
			t.Fatalf("the code or the secret logged:\n%s", logs)
		}
	}
	// Counted like wrong codes: after limit of them, the account is
	// throttled.
	_, err = f.svc.SignIn(t.Context(), "another-client", blog.Credentials{Username: "alice", Password: password})
	var throttled *account.ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("after %d refused codes: %v, want throttled", limit, err)
	}
	// A recovery code needs no key.
	u, err := f.svc.SignIn(t.Context(), "bobs-client", blog.Credentials{Username: "bob", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	mfa, _, err := f.svc.StartSecondFactor(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishSecondFactor(t.Context(), "bobs-client", mfa, bob.recovery[0]); err != nil {
		t.Fatalf("a recovery code without the key: %v", err)
	}
}

// TestResetOfAnUnfinishedSetup: a reset of an account that only began an
// authenticator-app setup discards it but reports that nothing was on,
// and its token version (its sessions) stays.
func TestResetOfAnUnfinishedSetup(t *testing.T) {
	f := newFixture(t, 1000)
	u := f.register(t, "alice")
	if _, err := f.svc.BeginTOTP(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	before := f.mustUser(t, "alice")
	if wasOn, err := f.svc.ResetTwoFactor(t.Context(), u.ID); err != nil || wasOn {
		t.Fatalf("ResetTwoFactor = %v, %v; want nothing on", wasOn, err)
	}
	if after := f.mustUser(t, "alice"); after.TokenVersion != before.TokenVersion {
		t.Fatalf("token version %d → %d: sessions ended for nothing", before.TokenVersion, after.TokenVersion)
	}
	if tf, err := f.store.TwoFactor(t.Context(), u.ID); err != nil || tf.TOTPSecret != "" {
		t.Fatalf("unfinished setup kept: %v", err)
	}
	if _, err := f.svc.ResetTwoFactor(t.Context(), u.ID); !errors.Is(err, blog.ErrTOTPOff) {
		t.Fatalf("second reset: %v, want ErrTOTPOff", err)
	}
}
