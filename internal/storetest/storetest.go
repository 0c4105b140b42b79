// Package storetest is the contract every blog.Store implementation must
// pass. An implementation's test calls Run with a function that opens a
// fresh, empty store; the suite is the same for SQLite, PostgreSQL and
// MongoDB, so they cannot drift apart.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Opener returns a fresh, empty store for one test; it should register the
// store's cleanup with t.Cleanup.
type Opener func(t *testing.T) blog.Store

// Run runs the whole contract suite.
func Run(t *testing.T, open Opener) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("LookAlikeUsernames", func(t *testing.T) { testLookAlikes(t, open) })
	t.Run("Posts", func(t *testing.T) { testPosts(t, open) })
	t.Run("InvalidPosts", func(t *testing.T) { testInvalidPosts(t, open) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, open) })
	t.Run("Authorization", func(t *testing.T) { testAuthorization(t, open) })
	t.Run("Injection", func(t *testing.T) { testInjection(t, open) })
	t.Run("Revocations", func(t *testing.T) { testRevocations(t, open) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("ClaimToken", func(t *testing.T) { ClaimTokenContract(t, open(t)) })
	t.Run("TakeSession", func(t *testing.T) { TakeSessionContract(t, open(t)) })
	t.Run("ConcurrentWrites", func(t *testing.T) { testConcurrentWrites(t, open) })
	t.Run("AdminOps", func(t *testing.T) { testAdminOps(t, open) })
	t.Run("LastAdmin", func(t *testing.T) { testLastAdmin(t, open) })
	t.Run("FirstAdmin", func(t *testing.T) { testFirstAdmin(t, open) })
	t.Run("Invites", func(t *testing.T) { testInvites(t, open) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, open) })
	t.Run("Drafts", func(t *testing.T) { testDrafts(t, open) })
	t.Run("TwoFactor", func(t *testing.T) { testTwoFactor(t, open) })
	t.Run("Passkeys", func(t *testing.T) { testPasskeys(t, open) })
	t.Run("Backup", func(t *testing.T) { testBackup(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := blog.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func mustUser(t *testing.T, s blog.Store, name string, role blog.Role) blog.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), blog.NewUser{Username: name, PasswordHash: "hash-of-" + name, Role: role})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func mustPost(t *testing.T, s blog.Store, author blog.User, title string) blog.Post {
	t.Helper()
	p, err := s.CreatePost(context.Background(), blog.NewPost{AuthorID: author.ID, Title: title, Content: "content of " + title, ContentHTML: "<p>content of " + title + "</p>"})
	if err != nil {
		t.Fatalf("create post %q: %v", title, err)
	}
	return p
}

func testUsers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "Alice", blog.RoleAuthor)
	if !blog.ValidID(alice.ID) || alice.Username != "Alice" || alice.Role != blog.RoleAuthor || alice.CreatedAt.IsZero() {
		t.Fatalf("created user = %+v", alice)
	}

	t.Run("DuplicateUsernameAnyCase", func(t *testing.T) {
		_, err := s.CreateUser(ctx, blog.NewUser{Username: "aLiCe", PasswordHash: "x", Role: blog.RoleAuthor})
		wantCode(t, err, blog.ECONFLICT)
	})
	t.Run("InvalidRole", func(t *testing.T) {
		_, err := s.CreateUser(ctx, blog.NewUser{Username: "mallory", PasswordHash: "x", Role: "root"})
		wantCode(t, err, blog.EINVALID)
	})
	t.Run("LookupsCaseInsensitive", func(t *testing.T) {
		byName, err := s.UserByUsername(ctx, "ALICE")
		if err != nil || byName.ID != alice.ID {
			t.Fatalf("UserByUsername = %+v, %v", byName, err)
		}
		byID, err := s.UserByID(ctx, alice.ID)
		if err != nil || byID.Username != "Alice" || !byID.CreatedAt.Equal(alice.CreatedAt) {
			t.Fatalf("UserByID = %+v, %v", byID, err)
		}
		u, hash, err := s.Credentials(ctx, "alice")
		if err != nil || u.ID != alice.ID || hash != "hash-of-Alice" {
			t.Fatalf("Credentials = %+v, %q, %v", u, hash, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := s.UserByID(ctx, blog.NewID())
		wantCode(t, err, blog.ENOTFOUND)
		_, err = s.UserByID(ctx, "' OR 1=1 --")
		wantCode(t, err, blog.ENOTFOUND)
		_, err = s.UserByUsername(ctx, "nobody")
		wantCode(t, err, blog.ENOTFOUND)
		_, _, err = s.Credentials(ctx, "nobody")
		wantCode(t, err, blog.ENOTFOUND)
		wantCode(t, s.DisableUser(ctx, blog.NewID()), blog.ENOTFOUND)
		wantCode(t, s.SetRole(ctx, blog.NewID(), blog.RoleAdmin), blog.ENOTFOUND)
		wantCode(t, s.SetPasswordHash(ctx, blog.NewID(), "x", blog.PasswordChanged), blog.ENOTFOUND)
	})
	t.Run("SetRole", func(t *testing.T) {
		bob := mustUser(t, s, "bob", blog.RoleAuthor)
		if err := s.SetRole(ctx, bob.ID, blog.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SetRole(ctx, bob.ID, "superuser"), blog.EINVALID)
		got, err := s.UserByID(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Role != blog.RoleAdmin {
			t.Fatalf("role = %q, want admin", got.Role)
		}
	})
	t.Run("DisableBumpsTokenVersion", func(t *testing.T) {
		carol := mustUser(t, s, "carol", blog.RoleAuthor)
		if err := s.DisableUser(ctx, carol.ID); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByID(ctx, carol.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Disabled || got.TokenVersion != carol.TokenVersion+1 {
			t.Fatalf("after disable: %+v", got)
		}
	})
	t.Run("SetPasswordHash", func(t *testing.T) {
		dave := mustUser(t, s, "dave", blog.RoleAuthor)
		if err := s.SetPasswordHash(ctx, dave.ID, "new-hash", blog.PasswordRehashed); err != nil {
			t.Fatal(err)
		}
		u, hash, err := s.Credentials(ctx, "dave")
		if err != nil {
			t.Fatal(err)
		}
		if hash != "new-hash" || u.TokenVersion != dave.TokenVersion {
			t.Fatalf("after rehash: %q, version %d", hash, u.TokenVersion)
		}
		if err := s.SetPasswordHash(ctx, dave.ID, "newer-hash", blog.PasswordChanged); err != nil {
			t.Fatal(err)
		}
		u, _, err = s.Credentials(ctx, "dave")
		if err != nil {
			t.Fatal(err)
		}
		if u.TokenVersion != dave.TokenVersion+1 {
			t.Fatalf("password change kept token version %d", u.TokenVersion)
		}
		// A caller must say which change it makes: the zero value (or any
		// unknown one) is refused and changes nothing.
		for _, change := range []blog.PasswordChange{0, blog.PasswordChanged + 1} {
			if err := s.SetPasswordHash(ctx, dave.ID, "unknown-change", change); err == nil {
				t.Fatalf("SetPasswordHash with change %d succeeded", change)
			}
		}
		after, hash, err := s.Credentials(ctx, "dave")
		if err != nil || hash != "newer-hash" || after.TokenVersion != u.TokenVersion {
			t.Fatalf("refused change stored: %q, version %d, %v", hash, after.TokenVersion, err)
		}
	})
}

// testLookAlikes: a username whose confusable skeleton matches an existing
// one is refused like a taken one, by the store itself, so that two
// look-alikes registered at the same moment can't both get in.
func testLookAlikes(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "alice", blog.RoleAuthor)
	mustUser(t, s, "mallory", blog.RoleAuthor)
	for _, name := range []string{"aIice", "AIice", "rnallory", "RNALLORY"} {
		t.Run(name, func(t *testing.T) {
			_, err := s.CreateUser(ctx, blog.NewUser{Username: name, PasswordHash: "x", Role: blog.RoleAuthor})
			wantCode(t, err, blog.ECONFLICT)
			if err.Error() != blog.ErrUsernameTaken.Error() {
				t.Fatalf("error = %v, want the same answer as for a taken name", err)
			}
			if _, err := s.UserByUsername(ctx, name); blog.ErrorCode(err) != blog.ENOTFOUND {
				t.Fatalf("refused look-alike %q stored (%v)", name, err)
			}
		})
	}
	t.Run("DifferentNamesStillWelcome", func(t *testing.T) {
		for _, name := range []string{"alicia", "al1ce", "malory"} {
			mustUser(t, s, name, blog.RoleAuthor)
		}
		if u, err := s.UserByUsername(ctx, "alice"); err != nil || u.ID != alice.ID {
			t.Fatalf("alice = %+v, %v", u, err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		names := []string{"bobby", "b0bby", "BOBBY", "B0BBY", "bobbY", "b0bbY"}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created []string
			errs    []error
		)
		start := make(chan struct{})
		for _, name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.CreateUser(ctx, blog.NewUser{Username: name, PasswordHash: "x", Role: blog.RoleAuthor})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					created = append(created, name)
				} else if blog.ErrorCode(err) != blog.ECONFLICT {
					errs = append(errs, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("unexpected errors: %v", errs)
		}
		if len(created) != 1 {
			t.Fatalf("look-alikes registered at once: %q, want exactly one", created)
		}
	})
}

func testPosts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "alice", blog.RoleAuthor)

	p := mustPost(t, s, alice, "First post")
	if !blog.ValidID(p.ID) || p.Author != (blog.Author{ID: alice.ID, Username: "alice"}) || p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Fatalf("created post = %+v", p)
	}
	got, err := s.PostByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != p {
		t.Fatalf("PostByID = %+v\nwant %+v", got, p)
	}

	t.Run("UnknownAuthor", func(t *testing.T) {
		_, err := s.CreatePost(ctx, blog.NewPost{AuthorID: blog.NewID(), Title: "Nobody's post", Content: "Content by nobody", ContentHTML: "<p>Content by nobody</p>"})
		wantCode(t, err, blog.ENOTFOUND)
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := s.PostByID(ctx, blog.NewID())
		wantCode(t, err, blog.ENOTFOUND)
		_, err = s.PostByID(ctx, "not-an-id")
		wantCode(t, err, blog.ENOTFOUND)
		_, err = s.UpdatePost(ctx, alice, blog.NewID(), blog.PostUpdate{Title: ptr("Renamed")})
		wantCode(t, err, blog.ENOTFOUND)
		wantCode(t, s.DeletePost(ctx, alice, blog.NewID()), blog.ENOTFOUND)
	})
	t.Run("UpdateTitleOnly", func(t *testing.T) {
		time.Sleep(2 * time.Microsecond)
		up, err := s.UpdatePost(ctx, alice, p.ID, blog.PostUpdate{Title: ptr("Renamed")})
		if err != nil {
			t.Fatal(err)
		}
		if up.Title != "Renamed" || up.Content != p.Content || up.ContentHTML != p.ContentHTML || !up.UpdatedAt.After(p.UpdatedAt) || !up.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("updated = %+v", up)
		}
		stored, err := s.PostByID(ctx, p.ID)
		if err != nil || stored != up {
			t.Fatalf("stored = %+v\nwant %+v", stored, up)
		}
	})
	t.Run("UpdateContent", func(t *testing.T) {
		up, err := s.UpdatePost(ctx, alice, p.ID, blog.PostUpdate{Content: ptr("new **content**"), ContentHTML: ptr("<p>new <strong>content</strong></p>")})
		if err != nil {
			t.Fatal(err)
		}
		if up.Content != "new **content**" || up.ContentHTML != "<p>new <strong>content</strong></p>" {
			t.Fatalf("updated = %+v", up)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeletePost(ctx, alice, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.PostByID(ctx, p.ID)
		wantCode(t, err, blog.ENOTFOUND)
		wantCode(t, s.DeletePost(ctx, alice, p.ID), blog.ENOTFOUND)
	})
}

// testInvalidPosts: a store refuses, with EINVALID, a post or an edit that
// did not go through PostInput.Clean or PostPatch.Clean, and stores
// nothing: a caller that forgets to validate cannot write one.
func testInvalidPosts(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "alice", blog.RoleAuthor)
	p := mustPost(t, s, alice, "A valid post")
	const content = "Valid content of a post"
	bad := []struct {
		name           string
		title, content string
	}{
		{"Empty", "", ""},
		{"TitleTooShort", "x", content},
		{"TitleTooLong", strings.Repeat("t", blog.TitleMax+1), content},
		{"ContentTooShort", "A title", "short"},
		{"ContentTooLong", "A title", strings.Repeat("c", blog.ContentMax+1)},
		{"TitleWithBidiOverride", "A \u202Etitle", content},
		{"TitleWithNewline", "A\ntitle", content},
		{"TitleNotTrimmed", " A title", content},
		{"TitleNotNFC", "Cafe\u0301 title", content},
		{"ContentWithNUL", "A title", "Valid\x00 content of a post"},
		{"ContentWithZeroWidthSpace", "A title", "Valid\u200B content of a post"},
		{"ContentNotTrimmed", "A title", content + "\n"},
	}
	for _, tt := range bad {
		t.Run("Create"+tt.name, func(t *testing.T) {
			_, err := s.CreatePost(ctx, blog.NewPost{AuthorID: alice.ID, Title: tt.title, Content: tt.content, ContentHTML: "<p>html</p>"})
			wantInvalidPost(t, err)
		})
		t.Run("Update"+tt.name, func(t *testing.T) {
			_, err := s.UpdatePost(ctx, alice, p.ID, blog.PostUpdate{Title: &tt.title, Content: &tt.content, ContentHTML: ptr("<p>html</p>")})
			wantInvalidPost(t, err)
		})
	}
	t.Run("EmptyUpdate", func(t *testing.T) {
		_, err := s.UpdatePost(ctx, alice, p.ID, blog.PostUpdate{})
		wantInvalidPost(t, err)
	})
	t.Run("ContentWithoutHTML", func(t *testing.T) {
		// The caller's bug, not the client's: an internal error.
		_, err := s.UpdatePost(ctx, alice, p.ID, blog.PostUpdate{Content: ptr(content)})
		wantCode(t, err, blog.EINTERNAL)
	})
	page, _, err := s.ListPosts(ctx, blog.Page{Limit: 100})
	if err != nil || len(page) != 1 || page[0] != p {
		t.Fatalf("after refused posts and edits: %+v, %v; want only %+v, unchanged", page, err, p)
	}
}

// wantInvalidPost checks for blog.ErrInvalidPost with the field errors that
// say what is wrong.
func wantInvalidPost(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, blog.EINVALID)
	var verr *blog.ValidationError
	if !errors.Is(err, blog.ErrInvalidPost) || !errors.As(err, &verr) || len(verr.Fields) == 0 {
		t.Fatalf("error = %v, want ErrInvalidPost with field errors", err)
	}
}

func testPagination(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "alice", blog.RoleAuthor)
	const total = 45
	want := make([]string, 0, total)
	for i := range total {
		want = append(want, mustPost(t, s, alice, fmt.Sprintf("Post %02d", i)).ID)
	}
	// Newest first. Posts made within one clock tick share created_at; the
	// order among them is by ID, so compare as sets per page and the whole
	// order by (created_at, id).
	var (
		got   []blog.Post
		after *blog.Cursor
		pages int
	)
	for {
		page, next, err := s.ListPosts(ctx, blog.Page{Limit: 20, After: after})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, page...)
		if next == nil {
			break
		}
		if len(page) != 20 {
			t.Fatalf("page %d has %d posts and a next cursor", pages, len(page))
		}
		after = next
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 || len(got) != total {
		t.Fatalf("got %d posts in %d pages, want %d in 3", len(got), pages, total)
	}
	seen := map[string]bool{}
	for i, p := range got {
		if seen[p.ID] {
			t.Fatalf("post %s returned twice", p.ID)
		}
		seen[p.ID] = true
		if p.Author.Username != "alice" {
			t.Fatalf("post %d author = %+v", i, p.Author)
		}
		if i > 0 {
			prev := got[i-1]
			if p.CreatedAt.After(prev.CreatedAt) || (p.CreatedAt.Equal(prev.CreatedAt) && p.ID > prev.ID) {
				t.Fatalf("posts %d and %d out of order", i-1, i)
			}
		}
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("post %s missing from the feed", id)
		}
	}
	t.Run("LimitBounds", func(t *testing.T) {
		page, _, err := s.ListPosts(ctx, blog.Page{Limit: 0})
		if err != nil || len(page) != blog.DefaultPageLimit {
			t.Fatalf("limit 0 gave %d posts, %v", len(page), err)
		}
		page, _, err = s.ListPosts(ctx, blog.Page{Limit: 5})
		if err != nil || len(page) != 5 {
			t.Fatalf("limit 5 gave %d posts, %v", len(page), err)
		}
	})
	t.Run("EmptyStore", func(t *testing.T) {
		page, next, err := open(t).ListPosts(ctx, blog.Page{Limit: 20})
		if err != nil || len(page) != 0 || next != nil {
			t.Fatalf("empty store: %d posts, next %v, %v", len(page), next, err)
		}
	})
	t.Run("CursorPastEnd", func(t *testing.T) {
		page, next, err := s.ListPosts(ctx, blog.Page{Limit: 20, After: &blog.Cursor{CreatedAt: time.Unix(0, 0).UTC(), ID: blog.NewID()}})
		if err != nil || len(page) != 0 || next != nil {
			t.Fatalf("cursor past end: %d posts, next %v, %v", len(page), next, err)
		}
	})
}

func testAuthorization(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	alice := mustUser(t, s, "alice", blog.RoleAuthor)
	mallory := mustUser(t, s, "mallory", blog.RoleAuthor)
	admin := mustUser(t, s, "admin", blog.RoleAdmin)
	p := mustPost(t, s, alice, "Alice's post")

	t.Run("OtherUserCannotEdit", func(t *testing.T) {
		_, err := s.UpdatePost(ctx, mallory, p.ID, blog.PostUpdate{Title: ptr("pwned")})
		wantCode(t, err, blog.EFORBIDDEN)
		if got, err := s.PostByID(ctx, p.ID); err != nil || got != p {
			t.Fatalf("post changed by a refused edit: %+v, %v", got, err)
		}
	})
	t.Run("OtherUserCannotDelete", func(t *testing.T) {
		wantCode(t, s.DeletePost(ctx, mallory, p.ID), blog.EFORBIDDEN)
		if _, err := s.PostByID(ctx, p.ID); err != nil {
			t.Fatalf("post gone after a refused delete: %v", err)
		}
	})
	t.Run("DisabledAuthorCannotEdit", func(t *testing.T) {
		disabled := alice
		disabled.Disabled = true
		_, err := s.UpdatePost(ctx, disabled, p.ID, blog.PostUpdate{Title: ptr("Edited while disabled")})
		wantCode(t, err, blog.EFORBIDDEN)
	})
	t.Run("AdminCanEdit", func(t *testing.T) {
		up, err := s.UpdatePost(ctx, admin, p.ID, blog.PostUpdate{Title: ptr("Moderated")})
		if err != nil || up.Title != "Moderated" || up.Author.ID != alice.ID {
			t.Fatalf("admin edit = %+v, %v", up, err)
		}
	})
	t.Run("AdminCanDelete", func(t *testing.T) {
		if err := s.DeletePost(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// testInjection stores SQL and NoSQL metacharacters in every text field and
// expects them back byte for byte: only parameterised queries can do that.
func testInjection(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	evil := []string{
		`'; DROP TABLE posts; --`,
		`" OR "1"="1`,
		`\'; SELECT * FROM users; --`,
		`{"$gt": ""}`,
		`$where: function() { return true }`,
		`<script>alert(1)</script>`,
		"percent and underscore wildcards: " + strings.Repeat("%_", 10),
	}
	u := mustUser(t, s, "robert_tables", blog.RoleAuthor)
	for i, text := range evil {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p, err := s.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: text, Content: text, ContentHTML: text})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.PostByID(ctx, p.ID)
			if err != nil || got.Title != text || got.Content != text || got.ContentHTML != text {
				t.Fatalf("round trip of %q = %+v, %v", text, got, err)
			}
			_, err = s.UserByUsername(ctx, text)
			wantCode(t, err, blog.ENOTFOUND)
		})
	}
	page, _, err := s.ListPosts(ctx, blog.Page{Limit: 100})
	if err != nil || len(page) != len(evil) {
		t.Fatalf("after injection attempts: %d posts, %v", len(page), err)
	}
}

func testRevocations(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := time.Now().UTC()
	if revoked, err := s.TokenRevoked(ctx, "jti-1"); err != nil || revoked {
		t.Fatalf("fresh token revoked = %v, %v", revoked, err)
	}
	if err := s.RevokeToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := s.RevokeToken(ctx, "jti-old", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if revoked, err := s.TokenRevoked(ctx, "jti-1"); err != nil || !revoked {
		t.Fatalf("revoked token = %v, %v", revoked, err)
	}
	if err := s.PruneRevocations(ctx, now); err != nil {
		t.Fatal(err)
	}
	if revoked, err := s.TokenRevoked(ctx, "jti-old"); err != nil || revoked {
		t.Fatalf("expired revocation kept after prune: %v, %v", revoked, err)
	}
	if revoked, err := s.TokenRevoked(ctx, "jti-1"); err != nil || !revoked {
		t.Fatalf("live revocation lost in prune: %v, %v", revoked, err)
	}
}

func testSessions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := time.Now()
	if _, found, err := s.FindSession(ctx, "k1"); err != nil || found {
		t.Fatalf("missing session found = %v, %v", found, err)
	}
	if err := s.SaveSession(ctx, "k1", []byte("one"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if data, found, err := s.FindSession(ctx, "k1"); err != nil || !found || string(data) != "one" {
		t.Fatalf("saved session = %q, %v, %v", data, found, err)
	}
	t.Run("Replace", func(t *testing.T) {
		if err := s.SaveSession(ctx, "k1", []byte("two"), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if data, found := mustFindSession(t, s, "k1"); !found || string(data) != "two" {
			t.Fatalf("replaced session = %q, %v", data, found)
		}
	})
	t.Run("ExpiredNotFound", func(t *testing.T) {
		mustSaveSession(t, s, "old", []byte("x"), now.Add(-time.Second))
		if _, found := mustFindSession(t, s, "old"); found {
			t.Fatal("expired session found")
		}
	})
	t.Run("BinaryData", func(t *testing.T) {
		data := []byte{0, 1, 2, 255, '\'', '"'}
		mustSaveSession(t, s, "bin", data, now.Add(time.Hour))
		if got, found := mustFindSession(t, s, "bin"); !found || string(got) != string(data) {
			t.Fatalf("binary data = %v", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteSession(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if _, found := mustFindSession(t, s, "k1"); found {
			t.Fatal("deleted session found")
		}
		if err := s.DeleteSession(ctx, "k1"); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
	})
	t.Run("Prune", func(t *testing.T) {
		// FindSession hides an expired session whether or not it is still
		// stored, so a prune that did nothing would go unseen. Instead the
		// prune is run as of a moment in the future: a session that is
		// live now but expired by then must be gone, and one that outlives
		// that moment must stay.
		cutoff := now.Add(2 * time.Hour)
		mustSaveSession(t, s, "live", []byte("x"), cutoff.Add(time.Hour))
		mustSaveSession(t, s, "ends-before-cutoff", []byte("x"), now.Add(time.Hour))
		if err := s.PruneSessions(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
		if _, found := mustFindSession(t, s, "live"); !found {
			t.Fatal("live session pruned")
		}
		if _, found := mustFindSession(t, s, "ends-before-cutoff"); found {
			t.Fatal("a session expired as of the prune survived it")
		}
	})
}

func testConcurrentWrites(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "writer", blog.RoleAuthor)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := s.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: fmt.Sprintf("w%d-%d", w, i), Content: "concurrent content", ContentHTML: "<p>concurrent content</p>"})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent create: %v", err)
	}
	page, _, err := s.ListPosts(ctx, blog.Page{Limit: 100})
	if err != nil || len(page) != workers*each {
		t.Fatalf("after concurrent writes: %d posts, %v", len(page), err)
	}
}

func ptr[T any](v T) *T { return &v }

// mustFindSession looks key up and fails the test on a store error, so that
// an erroring store is never read as "no such session".
func mustFindSession(t *testing.T, s blog.Store, key string) ([]byte, bool) {
	t.Helper()
	data, found, err := s.FindSession(context.Background(), key)
	if err != nil {
		t.Fatalf("find session %q: %v", key, err)
	}
	return data, found
}

func mustSaveSession(t *testing.T, s blog.Store, key string, data []byte, expiry time.Time) {
	t.Helper()
	if err := s.SaveSession(context.Background(), key, data, expiry); err != nil {
		t.Fatalf("save session %q: %v", key, err)
	}
}
