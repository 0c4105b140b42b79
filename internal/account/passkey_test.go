package account_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// addPasskey registers a passkey of a to the account name and returns
// the account as it now is.
func (f *fixture) addPasskey(t *testing.T, name string, a *apptest.Authenticator) blog.User {
	t.Helper()
	u := f.mustUser(t, name)
	c, err := f.svc.BeginPasskeyRegistration(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := a.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishPasskeyRegistration(t.Context(), u, c.Token, "Phone", cred); err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return f.mustUser(t, name)
}

// passkeySignIn signs in with a's passkey alone.
func (f *fixture) passkeySignIn(t *testing.T, a *apptest.Authenticator) (blog.User, error) {
	t.Helper()
	c, err := f.svc.BeginPasskeySignIn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := a.Get(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred)
}

func TestPasskeyRegisterListRenameRemove(t *testing.T) {
	f := newFixture(t, 1000)
	before := f.register(t, "alice")
	a := apptest.NewAuthenticator(fixtureOrigin)

	c, err := f.svc.BeginPasskeyRegistration(t.Context(), before)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"residentKey":"required"`, `"userVerification":"required"`, `"attestation":"none"`, `"rp":{`, `"id":"blog.example"`} {
		if !strings.Contains(string(c.Options), want) {
			t.Errorf("creation options lack %s: %s", want, c.Options)
		}
	}
	if strings.Contains(string(c.Options), `"id":"alice"`) {
		t.Error("the user handle is the username")
	}
	cred, err := a.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("BadNameKeepsTheCeremony", func(t *testing.T) {
		for _, name := range []string{"", "   ", strings.Repeat("x", 65), "a\x00b"} {
			if _, err := f.svc.FinishPasskeyRegistration(t.Context(), before, c.Token, name, cred); !errors.Is(err, blog.ErrInvalidPasskeyName) {
				t.Fatalf("name %q: %v, want ErrInvalidPasskeyName", name, err)
			}
		}
	})
	p, err := f.svc.FinishPasskeyRegistration(t.Context(), before, c.Token, "  Phone  ", cred)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Phone" || p.UserID != before.ID || p.SignCount != 1 || p.BackupEligible {
		t.Errorf("stored %+v", p)
	}
	after := f.mustUser(t, "alice")
	if after.Passkeys != 1 || after.TokenVersion == before.TokenVersion || !after.HasSecondFactor() {
		t.Fatalf("after adding: %d passkeys, version %d → %d", after.Passkeys, before.TokenVersion, after.TokenVersion)
	}
	if !strings.Contains(f.logs.String(), `"event":"2fa.passkey.added"`) {
		t.Error("adding not logged")
	}
	if m := account.SecondFactorMethods(after); len(m) != 1 || m[0] != "passkey" {
		t.Errorf("methods = %v, want [passkey]", m)
	}

	t.Run("ExcludesItsPasskeys", func(t *testing.T) {
		c, err := f.svc.BeginPasskeyRegistration(t.Context(), after)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(c.Options), p.ID) {
			t.Errorf("excludeCredentials does not list %s: %s", p.ID, c.Options)
		}
	})
	t.Run("List", func(t *testing.T) {
		got, err := f.svc.Passkeys(t.Context(), after)
		if err != nil || len(got) != 1 || got[0].ID != p.ID {
			t.Fatalf("Passkeys = %+v, %v", got, err)
		}
	})
	t.Run("Rename", func(t *testing.T) {
		if err := f.svc.RenamePasskey(t.Context(), after, p.ID, " Laptop "); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Passkeys(t.Context(), after)
		if got[0].Name != "Laptop" {
			t.Errorf("name = %q", got[0].Name)
		}
		if err := f.svc.RenamePasskey(t.Context(), after, p.ID, ""); !errors.Is(err, blog.ErrInvalidPasskeyName) {
			t.Errorf("empty name: %v", err)
		}
		bob := f.register(t, "bob")
		if err := f.svc.RenamePasskey(t.Context(), bob, p.ID, "Mine"); !errors.Is(err, blog.ErrPasskeyNotFound) {
			t.Errorf("another account renamed it: %v", err)
		}
		if err := f.svc.RemovePasskey(t.Context(), bob, p.ID); !errors.Is(err, blog.ErrPasskeyNotFound) {
			t.Errorf("another account removed it: %v", err)
		}
	})
	t.Run("RemoveThenRefused", func(t *testing.T) {
		if err := f.svc.RemovePasskey(t.Context(), after, p.ID); err != nil {
			t.Fatal(err)
		}
		gone := f.mustUser(t, "alice")
		if gone.Passkeys != 0 || gone.TokenVersion == after.TokenVersion {
			t.Errorf("after removing: %d passkeys, version %d → %d", gone.Passkeys, after.TokenVersion, gone.TokenVersion)
		}
		if !strings.Contains(f.logs.String(), `"event":"2fa.passkey.removed"`) {
			t.Error("removing not logged")
		}
		if _, err := f.passkeySignIn(t, a); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Fatalf("a removed passkey signed in: %v", err)
		}
	})
}

func TestPasskeySignInAlone(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "alice")
	a := apptest.NewAuthenticator(fixtureOrigin)
	u := f.addPasskey(t, "alice", a)

	got, err := f.passkeySignIn(t, a)
	if err != nil || got.ID != u.ID {
		t.Fatalf("FinishPasskeySignIn = %q, %v", got.ID, err)
	}
	if !strings.Contains(f.logs.String(), `"method":"passkey"`) {
		t.Error("login.success method=passkey not logged")
	}
	ps, _ := f.svc.Passkeys(t.Context(), u)
	if ps[0].SignCount != 2 || ps[0].LastUsedAt.IsZero() {
		t.Errorf("after use: counter %d, last used %v", ps[0].SignCount, ps[0].LastUsedAt)
	}

	t.Run("Synced", func(t *testing.T) {
		s := apptest.NewAuthenticator(fixtureOrigin)
		s.Synced = true
		f.register(t, "sam")
		f.addPasskey(t, "sam", s)
		for range 2 { // counter 0 both times: synced passkeys never count
			if _, err := f.passkeySignIn(t, s); err != nil {
				t.Fatal(err)
			}
		}
		ps, _ := f.svc.Passkeys(t.Context(), f.mustUser(t, "sam"))
		if !ps[0].BackupEligible || !ps[0].BackupState {
			t.Errorf("synced passkey stored as %+v", ps[0])
		}
	})
}

func TestPasskeyRefusals(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "alice")
	f.register(t, "bob")
	a := apptest.NewAuthenticator(fixtureOrigin)
	alice := f.addPasskey(t, "alice", a)
	f.addPasskey(t, "bob", apptest.NewAuthenticator(fixtureOrigin))

	refused := func(t *testing.T, a *apptest.Authenticator, want error) {
		t.Helper()
		if u, err := f.passkeySignIn(t, a); !errors.Is(err, want) {
			t.Fatalf("signed in as %q, err %v; want %v", u.Username, err, want)
		}
	}
	t.Run("WrongOrigin", func(t *testing.T) {
		evil := a.Clone()
		evil.Origin = "https://blog.example.evil"
		refused(t, evil, account.ErrPasskeyRefused)
	})
	t.Run("WrongRPID", func(t *testing.T) {
		evil := a.Clone()
		evil.RPID = "evil.example"
		refused(t, evil, account.ErrPasskeyRefused)
	})
	t.Run("NoUserVerification", func(t *testing.T) {
		lazy := a.Clone()
		lazy.NoUserVerification = true
		refused(t, lazy, account.ErrPasskeyRefused)
	})
	t.Run("AnotherAccountsUserHandle", func(t *testing.T) {
		evil := a.Clone()
		evil.UserHandle = []byte(f.mustUser(t, "bob").ID)
		refused(t, evil, account.ErrPasskeyRefused)
		if !strings.Contains(f.logs.String(), "passkey.user_handle_mismatch") {
			t.Error("mismatch not logged")
		}
	})
	t.Run("ClonedCounter", func(t *testing.T) {
		clone := a.Clone()
		if _, err := f.passkeySignIn(t, a); err != nil {
			t.Fatal(err)
		}
		// The clone's counter is behind the original's now.
		refused(t, clone, blog.ErrPasskeyCounter)
		if !strings.Contains(f.logs.String(), `"event":"passkey.counter"`) {
			t.Error("the counter going back not logged")
		}
		a.SetCounter(1) // a replayed low count
		refused(t, a, blog.ErrPasskeyCounter)
	})
	t.Run("RegistrationNoUV", func(t *testing.T) {
		lazy := apptest.NewAuthenticator(fixtureOrigin)
		lazy.NoUserVerification = true
		u := f.mustUser(t, "alice")
		c, err := f.svc.BeginPasskeyRegistration(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		cred, _ := lazy.Create(c.Options)
		if _, err := f.svc.FinishPasskeyRegistration(t.Context(), u, c.Token, "Key", cred); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Fatalf("registration without UV: %v", err)
		}
	})
	t.Run("RegistrationWrongOrigin", func(t *testing.T) {
		evil := apptest.NewAuthenticator("https://evil.example")
		u := f.mustUser(t, "alice")
		c, _ := f.svc.BeginPasskeyRegistration(t.Context(), u)
		cred, _ := evil.Create(c.Options)
		if _, err := f.svc.FinishPasskeyRegistration(t.Context(), u, c.Token, "Key", cred); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Fatalf("registration from another origin: %v", err)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		c, _ := f.svc.BeginPasskeySignIn(t.Context())
		for _, cred := range []string{"", "{}", "null", `{"id":"x"}`, strings.Repeat("a", account.MaxCredentialBytes+1)} {
			if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, []byte(cred)); !errors.Is(err, account.ErrPasskeyRefused) && !errors.Is(err, account.ErrCeremonyExpired) {
				t.Fatalf("credential %.20q: %v", cred, err)
			}
		}
	})
	t.Run("DisabledAccount", func(t *testing.T) {
		if err := f.store.DisableUser(t.Context(), alice.ID); err != nil {
			t.Fatal(err)
		}
		a.SetCounter(100) // well ahead: only the disabled account can refuse it

		refused(t, a, account.ErrPasskeyRefused)
	})
}

func TestPasskeyCeremonies(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "alice")
	f.register(t, "bob")
	a := apptest.NewAuthenticator(fixtureOrigin)
	alice := f.addPasskey(t, "alice", a)

	t.Run("Reused", func(t *testing.T) {
		c, _ := f.svc.BeginPasskeySignIn(t.Context())
		cred, _ := a.Get(c.Options)
		if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("ceremony used twice: %v", err)
		}
	})
	t.Run("FailedOnceIsUsedUp", func(t *testing.T) {
		c, _ := f.svc.BeginPasskeySignIn(t.Context())
		if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, []byte("{}")); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Fatal(err)
		}
		cred, _ := a.Get(c.Options)
		if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("ceremony retried after a failure: %v", err)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		c, _ := f.svc.BeginPasskeySignIn(t.Context())
		cred, _ := a.Get(c.Options)
		f.clock.Add(account.CeremonyTTL + time.Second)
		if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("expired ceremony: %v", err)
		}
	})
	t.Run("OtherPurpose", func(t *testing.T) {
		c, _ := f.svc.BeginPasskeyReauth(t.Context(), alice)
		cred, _ := a.Get(c.Options)
		if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", c.Token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("a re-auth ceremony signed in: %v", err)
		}
		c, _ = f.svc.BeginPasskeySignIn(t.Context())
		cred, _ = a.Get(c.Options)
		if err := f.svc.FinishPasskeyReauth(t.Context(), "client", alice, c.Token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("a sign-in ceremony re-authenticated: %v", err)
		}
	})
	t.Run("OtherAccount", func(t *testing.T) {
		bob := f.mustUser(t, "bob")
		c, _ := f.svc.BeginPasskeyRegistration(t.Context(), f.mustUser(t, "alice"))
		cred, _ := apptest.NewAuthenticator(fixtureOrigin).Create(c.Options)
		if _, err := f.svc.FinishPasskeyRegistration(t.Context(), bob, c.Token, "Key", cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("alice's registration finished for bob: %v", err)
		}
	})
	t.Run("Forged", func(t *testing.T) {
		c, _ := f.svc.BeginPasskeySignIn(t.Context())
		cred, _ := a.Get(c.Options)
		for _, token := range []string{"", "x", strings.Repeat("A", account.CeremonyTokenLen), c.Token + "A"} {
			if _, err := f.svc.FinishPasskeySignIn(t.Context(), "client", token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
				t.Fatalf("token %q: %v", token, err)
			}
		}
	})
}

func TestPasskeySecondFactor(t *testing.T) {
	f := newFixture(t, 1000)
	e := f.enrol(t, "alice")
	a := apptest.NewAuthenticator(fixtureOrigin)
	u := f.addPasskey(t, "alice", a)
	e.user = u
	if m := account.SecondFactorMethods(u); strings.Join(m, ",") != "totp,recovery,passkey" {
		t.Errorf("methods = %v", m)
	}
	second := func(t *testing.T, mfa string, a *apptest.Authenticator) (blog.User, error) {
		t.Helper()
		c, err := f.svc.BeginPasskeySecondFactor(t.Context(), mfa)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(c.Options), `"allowCredentials"`) {
			t.Errorf("no allowCredentials: %s", c.Options)
		}
		cred, _ := a.Get(c.Options)
		return f.svc.FinishPasskeySecondFactor(t.Context(), "client", mfa, c.Token, cred)
	}

	mfa := f.startSignIn(t, e)
	got, err := second(t, mfa, a)
	if err != nil || got.ID != u.ID {
		t.Fatalf("FinishPasskeySecondFactor = %q, %v", got.ID, err)
	}
	t.Run("MFATokenUsedUp", func(t *testing.T) {
		if _, err := f.svc.BeginPasskeySecondFactor(t.Context(), mfa); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("used mfaToken began a ceremony: %v", err)
		}
	})
	t.Run("NoMFAToken", func(t *testing.T) {
		if _, err := f.svc.BeginPasskeySecondFactor(t.Context(), "forged"); !errors.Is(err, account.ErrSignInExpired) {
			t.Fatalf("forged mfaToken: %v", err)
		}
	})
	t.Run("CeremonyOfAnotherSignIn", func(t *testing.T) {
		one, two := f.startSignIn(t, e), f.startSignIn(t, e)
		c, _ := f.svc.BeginPasskeySecondFactor(t.Context(), one)
		cred, _ := a.Get(c.Options)
		if _, err := f.svc.FinishPasskeySecondFactor(t.Context(), "client", two, c.Token, cred); !errors.Is(err, account.ErrCeremonyExpired) {
			t.Fatalf("a ceremony finished another sign-in: %v", err)
		}
	})
	t.Run("RefusedKeepsMFAToken", func(t *testing.T) {
		mfa := f.startSignIn(t, e)
		evil := a.Clone()
		evil.Origin = "https://evil.example"
		if _, err := second(t, mfa, evil); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Fatalf("wrong origin: %v", err)
		}
		if _, err := second(t, mfa, a); err != nil {
			t.Fatalf("the honest retry: %v", err)
		}
	})
	t.Run("AnotherAccountsPasskey", func(t *testing.T) {
		f.register(t, "bob")
		b := apptest.NewAuthenticator(fixtureOrigin)
		f.addPasskey(t, "bob", b)
		mfa := f.startSignIn(t, e)
		c, _ := f.svc.BeginPasskeySecondFactor(t.Context(), mfa)
		// Bob's authenticator ignores allowCredentials it doesn't hold:
		// sign with bob's passkey anyway.
		cred, err := b.Get([]byte(`{"publicKey":{"challenge":"` + challengeOf(t, c.Options) + `","rpId":"blog.example"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.FinishPasskeySecondFactor(t.Context(), "client", mfa, c.Token, cred); !errors.Is(err, account.ErrPasskeyRefused) {
			t.Fatalf("bob's passkey finished alice's sign-in: %v", err)
		}
	})
}

// challengeOf reads the challenge out of a ceremony's options.
func challengeOf(t *testing.T, options []byte) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(options), `"challenge":"`)
	if !ok {
		t.Fatalf("no challenge in %s", options)
	}
	ch, _, _ := strings.Cut(rest, `"`)
	return ch
}

func TestPasskeyReauth(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "alice")
	a := apptest.NewAuthenticator(fixtureOrigin)
	u := f.addPasskey(t, "alice", a)
	c, err := f.svc.BeginPasskeyReauth(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := a.Get(c.Options)
	if err := f.svc.FinishPasskeyReauth(t.Context(), "client", u, c.Token, cred); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.logs.String(), `"event":"reauth.success"`) {
		t.Error("re-authentication not logged")
	}
	bob := f.register(t, "bob")
	if _, err := f.svc.BeginPasskeyReauth(t.Context(), bob); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Errorf("re-auth with a passkey for an account without one: %v", err)
	}
}

func TestPasskeyLimits(t *testing.T) {
	t.Run("TwentyFirstRefused", func(t *testing.T) {
		f := newFixture(t, 1000)
		f.register(t, "alice")
		a := apptest.NewAuthenticator(fixtureOrigin)
		for range blog.MaxPasskeys {
			f.addPasskey(t, "alice", a)
		}
		if _, err := f.svc.BeginPasskeyRegistration(t.Context(), f.mustUser(t, "alice")); !errors.Is(err, blog.ErrTooManyPasskeys) {
			t.Fatalf("21st passkey: %v", err)
		}
	})
	t.Run("FailuresThrottled", func(t *testing.T) {
		const limit = 3
		f := newFixture(t, limit)
		f.register(t, "alice")
		a := apptest.NewAuthenticator(fixtureOrigin)
		f.addPasskey(t, "alice", a)
		evil := a.Clone()
		evil.Origin = "https://evil.example"
		for range limit {
			if _, err := f.passkeySignIn(t, evil); !errors.Is(err, account.ErrPasskeyRefused) {
				t.Fatal(err)
			}
		}
		var throttled *account.ThrottledError
		if _, err := f.passkeySignIn(t, a); !errors.As(err, &throttled) {
			t.Fatalf("after %d failures: %v, want throttled", limit, err)
		}
	})
	t.Run("NoDomainNoPasskeys", func(t *testing.T) {
		rp, err := account.NewWebAuthn("http://127.0.0.1:3000", "127.0.0.1", "")
		if err != nil || rp != nil {
			t.Fatalf("NewWebAuthn on an IP address = %v, %v; want none", rp, err)
		}
		f := newFixture(t, 1000)
		f.svc.WebAuthn = nil
		if _, err := f.svc.BeginPasskeySignIn(t.Context()); !errors.Is(err, account.ErrNoPasskeys) {
			t.Fatalf("BeginPasskeySignIn without a relying party: %v", err)
		}
	})
}

// TestResetRemovesPasskeys: an operator's reset of a lost second factor
// removes the passkeys too, and then nothing is left to reset.
func TestResetRemovesPasskeys(t *testing.T) {
	f := newFixture(t, 1000)
	f.register(t, "alice")
	a := apptest.NewAuthenticator(fixtureOrigin)
	u := f.addPasskey(t, "alice", a)
	if wasOn, err := f.svc.ResetTwoFactor(t.Context(), u.ID); err != nil || !wasOn {
		t.Fatalf("ResetTwoFactor = %v, %v; want a factor that was on", wasOn, err)
	}
	after := f.mustUser(t, "alice")
	if after.Passkeys != 0 || after.HasSecondFactor() || after.TokenVersion == u.TokenVersion {
		t.Fatalf("after reset: %d passkeys, version %d → %d", after.Passkeys, u.TokenVersion, after.TokenVersion)
	}
	if _, err := f.passkeySignIn(t, a); !errors.Is(err, account.ErrPasskeyRefused) {
		t.Fatalf("a reset passkey signed in: %v", err)
	}
	if _, err := f.svc.ResetTwoFactor(t.Context(), u.ID); !errors.Is(err, blog.ErrTOTPOff) {
		t.Fatalf("second reset: %v", err)
	}
}
