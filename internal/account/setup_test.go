package account_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
)

func TestSetup(t *testing.T) {
	reg := func(name string) blog.Registration { return blog.Registration{Username: name, Password: password} }
	t.Run("HonestClaimMakesAnAdminOnce", func(t *testing.T) {
		f := newFixture(t, 1000)
		var token string
		f.svc.Setup, token = account.NewSetup(time.Now())
		if len(token) != 43 {
			t.Fatalf("token %q is not 32 bytes of base64url", token)
		}
		if err := f.svc.CheckSetup(t.Context(), token); err != nil {
			t.Fatalf("check: %v", err)
		}
		u, err := f.svc.Claim(t.Context(), token, reg("owner"))
		if err != nil || u.Role != blog.RoleAdmin {
			t.Fatalf("claim = %+v, %v", u, err)
		}
		// An admin exists: the page is gone for everyone, link or not.
		for _, tok := range []string{token, "x"} {
			if err := f.svc.CheckSetup(t.Context(), tok); !errors.Is(err, account.ErrSetupGone) {
				t.Fatalf("after the claim: %v", err)
			}
			if _, err := f.svc.Claim(t.Context(), tok, reg("second")); !errors.Is(err, account.ErrSetupGone) {
				t.Fatalf("second claim: %v", err)
			}
		}
	})
	t.Run("BadTokens", func(t *testing.T) {
		f := newFixture(t, 1000)
		var token string
		f.svc.Setup, token = account.NewSetup(time.Now())
		other, _ := blog.NewInviteToken()
		for name, tok := range map[string]string{"Empty": "", "Wrong": other, "Prefix": token[:42], "Longer": token + "A"} {
			t.Run(name, func(t *testing.T) {
				if err := f.svc.CheckSetup(t.Context(), tok); !errors.Is(err, account.ErrSetupInvalid) {
					t.Fatalf("check: %v", err)
				}
				if _, err := f.svc.Claim(t.Context(), tok, reg("owner")); !errors.Is(err, account.ErrSetupInvalid) {
					t.Fatalf("claim: %v", err)
				}
			})
		}
		if n := f.users(t); n != 0 {
			t.Fatalf("%d accounts stored", n)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		f := newFixture(t, 1000)
		var token string
		f.svc.Setup, token = account.NewSetup(time.Now())
		f.svc.Now = func() time.Time { return time.Now().Add(account.SetupLifetime) }
		if _, err := f.svc.Claim(t.Context(), token, reg("owner")); !errors.Is(err, account.ErrSetupInvalid) {
			t.Fatalf("claim: %v", err)
		}
	})
	t.Run("InvalidFormKeepsTheLink", func(t *testing.T) {
		f := newFixture(t, 1000)
		var token string
		f.svc.Setup, token = account.NewSetup(time.Now())
		var verr *blog.ValidationError
		if _, err := f.svc.Claim(t.Context(), token, blog.Registration{Username: "owner", Password: "short"}); !errors.As(err, &verr) {
			t.Fatalf("claim: %v", err)
		}
		if _, err := f.svc.Claim(t.Context(), token, reg("owner")); err != nil {
			t.Fatalf("the link was spent by a form mistake: %v", err)
		}
	})
	t.Run("AdminMadeElsewhere", func(t *testing.T) {
		// The command line made an admin while the server ran.
		f := newFixture(t, 1000)
		var token string
		f.svc.Setup, token = account.NewSetup(time.Now())
		if _, err := f.store.CreateFirstAdmin(t.Context(), blog.NewUser{Username: "root", PasswordHash: "x", Role: blog.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Claim(t.Context(), token, reg("owner")); !errors.Is(err, account.ErrSetupGone) {
			t.Fatalf("claim: %v", err)
		}
	})
	t.Run("NoLink", func(t *testing.T) {
		f := newFixture(t, 1000)
		if err := f.svc.CheckSetup(t.Context(), ""); !errors.Is(err, account.ErrSetupGone) {
			t.Fatalf("check: %v", err)
		}
	})
	// Many claims at once with one link, and with the links of two
	// instances over one store: exactly one admin.
	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		f := newFixture(t, 1000)
		var tokenA, tokenB string
		f.svc.Setup, tokenA = account.NewSetup(time.Now())
		other := *f.svc
		other.Setup, tokenB = account.NewSetup(time.Now())
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			svc, token := f.svc, tokenA
			if i%2 == 1 {
				svc, token = &other, tokenB
			}
			wg.Go(func() {
				_, errs[i] = svc.Claim(t.Context(), token, reg("owner"+string(rune('a'+i))))
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, account.ErrSetupInvalid), errors.Is(err, account.ErrSetupGone):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		us, err := f.store.ListUsers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if won != 1 || len(us) != 1 || us[0].Role != blog.RoleAdmin {
			t.Fatalf("%d claims won, accounts %+v", won, us)
		}
	})
}
