package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
)

// The contract of second factors: a pending TOTP secret that only its
// own first code turns on, steps and recovery codes that work once even
// when requests race, and a token version that moves exactly when a
// factor changes.

// Stand-ins for what package sealed and package recovery produce: the
// store keeps them as opaque strings.
const (
	sealedA = "sealed-secret-A"
	sealedB = "sealed-secret-B"
)

func hashes(prefix string, n int) []string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return hs
}

func mustTwoFactor(t *testing.T, s blog.Store, userID string) blog.TwoFactor {
	t.Helper()
	f, err := s.TwoFactor(context.Background(), userID)
	if err != nil {
		t.Fatalf("two factor of %s: %v", userID, err)
	}
	return f
}

// mustEnable creates a user with TOTP on (sealedA, last step 100, codes
// "<name>-00".."<name>-09").
func mustEnable(t *testing.T, s blog.Store, name string) blog.User {
	t.Helper()
	ctx := context.Background()
	u := mustUser(t, s, name, blog.RoleAuthor)
	if err := s.BeginTOTP(ctx, u.ID, sealedA); err != nil {
		t.Fatalf("begin totp: %v", err)
	}
	if err := s.EnableTOTP(ctx, u.ID, sealedA, 100, hashes(name, 10)); err != nil {
		t.Fatalf("enable totp: %v", err)
	}
	return mustGetUser(t, s, u.ID)
}

// wantTOTPFlag checks User.TOTP through every read that returns a user.
func wantTOTPFlag(t *testing.T, s blog.Store, u blog.User, want bool) {
	t.Helper()
	ctx := context.Background()
	if got := mustGetUser(t, s, u.ID); got.TOTP != want {
		t.Errorf("UserByID: TOTP = %v, want %v", got.TOTP, want)
	}
	byName, err := s.UserByUsername(ctx, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if byName.TOTP != want {
		t.Errorf("UserByUsername: TOTP = %v, want %v", byName.TOTP, want)
	}
	cred, _, err := s.Credentials(ctx, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if cred.TOTP != want {
		t.Errorf("Credentials: TOTP = %v, want %v", cred.TOTP, want)
	}
	all, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(x blog.User) bool { return x.ID == u.ID })
	if i < 0 {
		t.Fatalf("ListUsers lacks %s", u.Username)
	}
	if all[i].TOTP != want {
		t.Errorf("ListUsers: TOTP = %v, want %v", all[i].TOTP, want)
	}
}

// wantVersion fails unless u's token version is now u.TokenVersion+delta.
func wantVersion(t *testing.T, s blog.Store, u blog.User, delta int, what string) {
	t.Helper()
	if got := mustGetUser(t, s, u.ID).TokenVersion; got != u.TokenVersion+delta {
		t.Errorf("after %s: token version = %d, want %d", what, got, u.TokenVersion+delta)
	}
}

func testTwoFactor(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)

	t.Run("NewUserHasNone", func(t *testing.T) {
		u := mustUser(t, s, "tf-new", blog.RoleAuthor)
		if u.TOTP || u.HasSecondFactor() {
			t.Fatalf("created user = %+v", u)
		}
		f := mustTwoFactor(t, s, u.ID)
		if f.TOTPSecret != "" || f.TOTPEnabled || f.TOTPLastStep != 0 || len(f.RecoveryCodes) != 0 {
			t.Fatalf("two factor = %+v", f)
		}
		wantTOTPFlag(t, s, u, false)
	})

	t.Run("BeginReplacesPending", func(t *testing.T) {
		u := mustUser(t, s, "tf-begin", blog.RoleAuthor)
		if err := s.BeginTOTP(ctx, u.ID, sealedA); err != nil {
			t.Fatal(err)
		}
		if err := s.BeginTOTP(ctx, u.ID, sealedB); err != nil {
			t.Fatal(err)
		}
		f := mustTwoFactor(t, s, u.ID)
		if f.TOTPSecret != sealedB || f.TOTPEnabled {
			t.Fatalf("two factor = %+v, want %q pending", f, sealedB)
		}
		wantTOTPFlag(t, s, u, false)
		wantVersion(t, s, u, 0, "BeginTOTP")
	})

	t.Run("EnableOnlyWithThePendingSecret", func(t *testing.T) {
		u := mustUser(t, s, "tf-enable", blog.RoleAuthor)
		wantErr(t, s.EnableTOTP(ctx, u.ID, sealedA, 7, hashes("x", 2)), blog.ErrNoPendingTOTP)
		if err := s.BeginTOTP(ctx, u.ID, sealedA); err != nil {
			t.Fatal(err)
		}
		if err := s.BeginTOTP(ctx, u.ID, sealedB); err != nil { // another tab
			t.Fatal(err)
		}
		// The first tab's code was for the replaced secret.
		wantErr(t, s.EnableTOTP(ctx, u.ID, sealedA, 7, hashes("x", 2)), blog.ErrNoPendingTOTP)
		wantErr(t, s.EnableTOTP(ctx, u.ID, "", 7, hashes("x", 2)), blog.ErrNoPendingTOTP)
		wantTOTPFlag(t, s, u, false)
		wantVersion(t, s, u, 0, "a refused EnableTOTP")

		if err := s.EnableTOTP(ctx, u.ID, sealedB, 7, hashes("x", 3)); err != nil {
			t.Fatal(err)
		}
		f := mustTwoFactor(t, s, u.ID)
		slices.Sort(f.RecoveryCodes)
		if f.TOTPSecret != sealedB || !f.TOTPEnabled || f.TOTPLastStep != 7 || !slices.Equal(f.RecoveryCodes, hashes("x", 3)) {
			t.Fatalf("two factor = %+v", f)
		}
		wantTOTPFlag(t, s, u, true)
		wantVersion(t, s, u, 1, "EnableTOTP")

		on := mustGetUser(t, s, u.ID)
		wantErr(t, s.EnableTOTP(ctx, u.ID, sealedB, 9, hashes("y", 2)), blog.ErrTOTPEnabled)
		wantErr(t, s.BeginTOTP(ctx, u.ID, sealedA), blog.ErrTOTPEnabled)
		f = mustTwoFactor(t, s, u.ID)
		if f.TOTPSecret != sealedB || f.TOTPLastStep != 7 || len(f.RecoveryCodes) != 3 {
			t.Fatalf("after refused changes: two factor = %+v", f)
		}
		wantVersion(t, s, on, 0, "a refused EnableTOTP or BeginTOTP")
	})

	t.Run("TOTPStepsOnlyMoveForward", func(t *testing.T) {
		u := mustUser(t, s, "tf-steps", blog.RoleAuthor)
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 50), blog.ErrCodeUsed) // off
		if err := s.BeginTOTP(ctx, u.ID, sealedA); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 50), blog.ErrCodeUsed) // pending is not on
		if err := s.EnableTOTP(ctx, u.ID, sealedA, 100, nil); err != nil {
			t.Fatal(err)
		}
		on := mustGetUser(t, s, u.ID)
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 100), blog.ErrCodeUsed) // the enrolment's own code
		if err := s.UseTOTPStep(ctx, u.ID, 101); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 101), blog.ErrCodeUsed) // the same step twice
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 99), blog.ErrCodeUsed)  // an older one
		if err := s.UseTOTPStep(ctx, u.ID, 103); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 102), blog.ErrCodeUsed)
		if f := mustTwoFactor(t, s, u.ID); f.TOTPLastStep != 103 {
			t.Fatalf("last step = %d, want 103", f.TOTPLastStep)
		}
		wantVersion(t, s, on, 0, "UseTOTPStep")
	})

	t.Run("ConcurrentSameStepOneWins", func(t *testing.T) {
		u := mustEnable(t, s, "tf-race-step")
		errs := race(8, func() error { return s.UseTOTPStep(ctx, u.ID, 200) })
		if n := winners(t, errs, blog.ErrCodeUsed); n != 1 {
			t.Fatalf("%d of 8 uses of one step succeeded, want 1", n)
		}
	})

	t.Run("RecoveryCodesWorkOnce", func(t *testing.T) {
		u := mustEnable(t, s, "tf-codes")
		codes := hashes("tf-codes", 10)
		if err := s.UseRecoveryCode(ctx, u.ID, codes[3]); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.UseRecoveryCode(ctx, u.ID, codes[3]), blog.ErrCodeUsed)
		wantErr(t, s.UseRecoveryCode(ctx, u.ID, "not-a-code"), blog.ErrCodeUsed)
		wantErr(t, s.UseRecoveryCode(ctx, u.ID, ""), blog.ErrCodeUsed)
		// Another account's code is not this one's.
		other := mustEnable(t, s, "tf-codes-other")
		wantErr(t, s.UseRecoveryCode(ctx, u.ID, hashes("tf-codes-other", 1)[0]), blog.ErrCodeUsed)
		wantErr(t, s.UseRecoveryCode(ctx, other.ID, codes[4]), blog.ErrCodeUsed)

		f := mustTwoFactor(t, s, u.ID)
		if len(f.RecoveryCodes) != 9 || slices.Contains(f.RecoveryCodes, codes[3]) {
			t.Fatalf("codes after one use = %v", f.RecoveryCodes)
		}
		wantVersion(t, s, u, 0, "UseRecoveryCode")
	})

	t.Run("ConcurrentSameRecoveryCodeOneWins", func(t *testing.T) {
		u := mustEnable(t, s, "tf-race-code")
		code := hashes("tf-race-code", 10)[5]
		errs := race(8, func() error { return s.UseRecoveryCode(ctx, u.ID, code) })
		if n := winners(t, errs, blog.ErrCodeUsed); n != 1 {
			t.Fatalf("%d of 8 uses of one recovery code succeeded, want 1", n)
		}
		if f := mustTwoFactor(t, s, u.ID); len(f.RecoveryCodes) != 9 {
			t.Fatalf("%d codes left, want 9", len(f.RecoveryCodes))
		}
	})

	t.Run("ReplaceRecoveryCodes", func(t *testing.T) {
		off := mustUser(t, s, "tf-replace-off", blog.RoleAuthor)
		wantErr(t, s.ReplaceRecoveryCodes(ctx, off.ID, hashes("z", 2)), blog.ErrTOTPOff)
		if err := s.BeginTOTP(ctx, off.ID, sealedA); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.ReplaceRecoveryCodes(ctx, off.ID, hashes("z", 2)), blog.ErrTOTPOff)
		if f := mustTwoFactor(t, s, off.ID); len(f.RecoveryCodes) != 0 {
			t.Fatalf("codes of an account without TOTP = %v", f.RecoveryCodes)
		}
		wantVersion(t, s, off, 0, "a refused ReplaceRecoveryCodes")

		u := mustEnable(t, s, "tf-replace")
		if err := s.ReplaceRecoveryCodes(ctx, u.ID, hashes("new", 10)); err != nil {
			t.Fatal(err)
		}
		f := mustTwoFactor(t, s, u.ID)
		slices.Sort(f.RecoveryCodes)
		if !slices.Equal(f.RecoveryCodes, hashes("new", 10)) {
			t.Fatalf("codes = %v", f.RecoveryCodes)
		}
		wantErr(t, s.UseRecoveryCode(ctx, u.ID, hashes("tf-replace", 1)[0]), blog.ErrCodeUsed) // an old one
		wantVersion(t, s, u, 1, "ReplaceRecoveryCodes")
	})

	t.Run("Disable", func(t *testing.T) {
		u := mustEnable(t, s, "tf-disable")
		if err := s.UseTOTPStep(ctx, u.ID, 150); err != nil {
			t.Fatal(err)
		}
		if err := s.DisableTOTP(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		f := mustTwoFactor(t, s, u.ID)
		if f.TOTPSecret != "" || f.TOTPEnabled || len(f.RecoveryCodes) != 0 {
			t.Fatalf("after disable: two factor = %+v", f)
		}
		wantTOTPFlag(t, s, u, false)
		wantVersion(t, s, u, 1, "DisableTOTP")
		wantErr(t, s.UseTOTPStep(ctx, u.ID, 151), blog.ErrCodeUsed)
		wantErr(t, s.UseRecoveryCode(ctx, u.ID, hashes("tf-disable", 1)[0]), blog.ErrCodeUsed)

		// Idempotent: turning off what is off changes nothing.
		off := mustGetUser(t, s, u.ID)
		if err := s.DisableTOTP(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		wantVersion(t, s, off, 0, "a second DisableTOTP")

		// Dropping a pending enrolment: it can't be confirmed afterwards.
		if err := s.BeginTOTP(ctx, u.ID, sealedB); err != nil {
			t.Fatal(err)
		}
		if err := s.DisableTOTP(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if f := mustTwoFactor(t, s, u.ID); f.TOTPSecret != "" {
			t.Fatalf("pending secret left after disable: %+v", f)
		}
		wantErr(t, s.EnableTOTP(ctx, u.ID, sealedB, 160, nil), blog.ErrNoPendingTOTP)

		// And it can be set up again, from a fresh last step.
		if err := s.BeginTOTP(ctx, u.ID, sealedA); err != nil {
			t.Fatal(err)
		}
		if err := s.EnableTOTP(ctx, u.ID, sealedA, 120, nil); err != nil {
			t.Fatal(err)
		}
		if f := mustTwoFactor(t, s, u.ID); !f.TOTPEnabled || f.TOTPLastStep != 120 {
			t.Fatalf("re-enabled: two factor = %+v", f)
		}
	})

	t.Run("ResealCompareAndSwap", func(t *testing.T) {
		u := mustEnable(t, s, "tf-reseal")
		if err := s.UseTOTPStep(ctx, u.ID, 300); err != nil {
			t.Fatal(err)
		}
		if err := s.ResealTOTP(ctx, u.ID, sealedA, sealedB); err != nil {
			t.Fatal(err)
		}
		f := mustTwoFactor(t, s, u.ID)
		if f.TOTPSecret != sealedB || !f.TOTPEnabled || f.TOTPLastStep != 300 || len(f.RecoveryCodes) != 10 {
			t.Fatalf("after reseal: two factor = %+v", f)
		}
		// A stale old value (re-sealed meanwhile) changes nothing.
		if err := s.ResealTOTP(ctx, u.ID, sealedA, "sealed-secret-C"); err != nil {
			t.Fatal(err)
		}
		if f := mustTwoFactor(t, s, u.ID); f.TOTPSecret != sealedB {
			t.Fatalf("a stale reseal replaced the secret: %q", f.TOTPSecret)
		}
		wantVersion(t, s, u, 0, "ResealTOTP")

		// Nor does re-sealing an account without a secret give it one.
		none := mustUser(t, s, "tf-reseal-none", blog.RoleAuthor)
		if err := s.ResealTOTP(ctx, none.ID, sealedA, sealedB); err != nil {
			t.Fatal(err)
		}
		if f := mustTwoFactor(t, s, none.ID); f.TOTPSecret != "" {
			t.Fatalf("reseal gave an account a secret: %q", f.TOTPSecret)
		}
	})

	t.Run("TOTPUsersListsPendingAndEnabled", func(t *testing.T) {
		s := open(t) // an empty store, so the list is exactly what is made here
		on := mustEnable(t, s, "tf-list-on")
		pending := mustUser(t, s, "tf-list-pending", blog.RoleAuthor)
		if err := s.BeginTOTP(ctx, pending.ID, sealedA); err != nil {
			t.Fatal(err)
		}
		mustUser(t, s, "tf-list-none", blog.RoleAuthor)
		gone := mustEnable(t, s, "tf-list-gone")
		if err := s.DisableTOTP(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		ids, err := s.TOTPUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{on.ID, pending.ID}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("TOTPUsers = %v, want %v", ids, want)
		}
	})

	t.Run("UnknownUser", func(t *testing.T) {
		for _, id := range []string{blog.NewID(), "' OR 1=1 --"} {
			_, err := s.TwoFactor(ctx, id)
			wantCode(t, err, blog.ENOTFOUND)
			wantCode(t, s.BeginTOTP(ctx, id, sealedA), blog.ENOTFOUND)
			wantCode(t, s.EnableTOTP(ctx, id, sealedA, 1, hashes("u", 1)), blog.ENOTFOUND)
			wantCode(t, s.UseTOTPStep(ctx, id, 1), blog.ENOTFOUND)
			wantCode(t, s.UseRecoveryCode(ctx, id, "u-00"), blog.ENOTFOUND)
			wantCode(t, s.ReplaceRecoveryCodes(ctx, id, hashes("u", 1)), blog.ENOTFOUND)
			wantCode(t, s.DisableTOTP(ctx, id), blog.ENOTFOUND)
			wantCode(t, s.ResealTOTP(ctx, id, sealedA, sealedB), blog.ENOTFOUND)
		}
	})
}

// race runs fn from n goroutines released together and returns their
// errors.
func race(n int, fn func() error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return errs
}
