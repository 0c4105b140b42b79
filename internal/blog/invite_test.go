package blog

import (
	"strings"
	"testing"
	"time"
)

func TestNewInviteToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		token, hash := NewInviteToken()
		if len(token) != 43 || !ValidInviteToken(token) || strings.ContainsAny(token, "+/=") {
			t.Fatalf("token %q is not 32 bytes of base64url without padding", token)
		}
		if hash != InviteTokenHash(token) || !ValidInviteTokenHash(hash) || strings.Contains(hash, token) {
			t.Fatalf("hash %q of token %q", hash, token)
		}
		if seen[token] {
			t.Fatal("a token repeated")
		}
		seen[token] = true
	}
	// The SHA-256 of "abc" (FIPS 180-2's example): the hash is plain
	// SHA-256 in lower-case hex.
	if got := InviteTokenHash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("InviteTokenHash(abc) = %s", got)
	}
}

func TestInviteShapes(t *testing.T) {
	token, hash := NewInviteToken()
	for _, bad := range []string{"", token[:42], token + "A", strings.ReplaceAll(token, token[:1], "+"), token[:42] + "=", "' OR 1=1 --"} {
		if bad != token && ValidInviteToken(bad) {
			t.Errorf("ValidInviteToken(%q) = true", bad)
		}
	}
	for _, bad := range []string{"", hash[:63], hash + "0", strings.ToUpper(hash), token, strings.Repeat("g", 64)} {
		if ValidInviteTokenHash(bad) {
			t.Errorf("ValidInviteTokenHash(%q) = true", bad)
		}
	}
}

func TestNewInviteValidate(t *testing.T) {
	now := Now()
	_, hash := NewInviteToken()
	ok := NewInvite{TokenHash: hash, Role: RoleAuthor, ExpiresAt: now.Add(DefaultInviteLifetime)}
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		edit func(*NewInvite)
		code string
	}{
		{"old role name", func(n *NewInvite) { n.Role = "user" }, EINVALID},
		{"token instead of hash", func(n *NewInvite) { n.TokenHash, _ = NewInviteToken() }, EINVALID},
		{"creator not an ID", func(n *NewInvite) { n.CreatedBy = "root" }, ENOTFOUND},
		{"expires now", func(n *NewInvite) { n.ExpiresAt = now }, EINVALID},
		{"past the longest lifetime", func(n *NewInvite) { n.ExpiresAt = now.Add(MaxInviteLifetime + time.Second) }, EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := ok
			tt.edit(&n)
			if got := ErrorCode(n.Validate(now)); got != tt.code {
				t.Fatalf("code %q, want %q", got, tt.code)
			}
		})
	}
	longest := ok
	longest.ExpiresAt = now.Add(MaxInviteLifetime)
	if err := longest.Validate(now); err != nil {
		t.Fatalf("the longest lifetime: %v", err)
	}
}

func TestInviteStatus(t *testing.T) {
	now := Now()
	at := now.Add(-time.Minute)
	for _, tt := range []struct {
		name string
		inv  Invite
		want string
	}{
		{"pending", Invite{ExpiresAt: now.Add(time.Second)}, InvitePending},
		{"expired at its expiry", Invite{ExpiresAt: now}, InviteExpired},
		{"revoked", Invite{ExpiresAt: now.Add(time.Hour), RevokedAt: &at}, InviteRevoked},
		{"used wins over expired", Invite{ExpiresAt: now.Add(-time.Hour), UsedAt: &at}, InviteUsed},
	} {
		if got := tt.inv.Status(now); got != tt.want {
			t.Errorf("%s: Status = %s, want %s", tt.name, got, tt.want)
		}
	}
}
