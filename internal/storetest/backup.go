package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// The contract of backups: what Export writes, Import into a fresh store
// of any kind puts back exactly (Export of the restored store writes the
// same records), and the restored store works as the original did. Import
// refuses a store that holds anything, and a restore that fails midway
// leaves the store empty.

// BackupFixture is what Populate stored, for the checks that the
// restored store works.
type BackupFixture struct {
	// Author signs in with a password changed once (token version
	// bumped), TOTP on and one recovery code used.
	Author blog.User
	// Starter has begun setting TOTP up but not finished.
	Starter blog.User
	// Admin has passkeys, one of them used.
	Admin blog.User
	// UsedPasskey is Admin's passkey that has signed in (counter 5).
	UsedPasskey blog.Passkey
	// PendingInvite and UsedInvite are the token hashes of an invite
	// that can still be redeemed and of one that was.
	PendingInvite, UsedInvite string
}

// Populate fills an empty store with one of everything a backup holds:
// settings; an admin, authors with and without TOTP, one setting it up, a
// disabled one, one made by an invite; published posts, a draft never
// published and one published once; invites pending, used (one made on
// the command line) and revoked; passkeys with every field, with no transports or AAGUID, with
// an empty transport list, used and not.
func Populate(t *testing.T, s blog.Store) BackupFixture {
	t.Helper()
	ctx := context.Background()
	var fx BackupFixture
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("populate: %s: %v", what, err)
		}
	}
	check("settings", s.SetSettings(ctx, blog.Settings{Title: "Kept «safe»", Description: "Everything in one file"}))

	fx.Admin = mustUser(t, s, "Admin", blog.RoleAdmin)
	fx.Author = mustEnable(t, s, "Alice")
	check("use recovery code", s.UseRecoveryCode(ctx, fx.Author.ID, "Alice-03"))
	check("use step", s.UseTOTPStep(ctx, fx.Author.ID, 107))
	check("change password", s.SetPasswordHash(ctx, fx.Author.ID, "new-hash-of-Alice", blog.PasswordChanged))
	fx.Starter = mustUser(t, s, "starter", blog.RoleAuthor)
	check("begin totp", s.BeginTOTP(ctx, fx.Starter.ID, sealedB))
	gone := mustUser(t, s, "gone", blog.RoleAuthor)
	check("disable", s.DisableUser(ctx, gone.ID))

	mustPost(t, s, fx.Author, "First")
	mustPost(t, s, fx.Admin, "Announcement")
	mustPost(t, s, gone, "Left behind")
	mustDraft(t, s, fx.Author, "Never published")
	once := mustPost(t, s, fx.Author, "Published once")
	draft := blog.StatusDraft
	_, err := s.UpdatePost(ctx, fx.Author, once.ID, blog.PostUpdate{Status: &draft})
	check("unpublish", err)

	_, fx.PendingInvite = newInvite(t, s, blog.RoleAuthor, fx.Admin.ID, time.Hour)
	_, fx.UsedInvite = newInvite(t, s, blog.RoleAdmin, "", time.Hour)
	_, err = s.RedeemInvite(ctx, fx.UsedInvite, blog.NewUser{Username: "invited", PasswordHash: "hash-of-invited"}, blog.Now())
	check("redeem invite", err)
	revoked, _ := newInvite(t, s, blog.RoleAuthor, fx.Admin.ID, time.Hour)
	check("revoke invite", s.RevokeInvite(ctx, revoked.ID))

	fx.UsedPasskey = newPasskey(fx.Admin, 1)
	mustAddPasskey(t, s, fx.UsedPasskey)
	bare := newPasskey(fx.Admin, 2)
	bare.Transports, bare.AAGUID = nil, nil
	mustAddPasskey(t, s, bare)
	emptied := newPasskey(fx.Author, 3)
	emptied.Transports = []string{}
	mustAddPasskey(t, s, emptied)
	check("use passkey", s.UsePasskey(ctx, fx.UsedPasskey.ID, 5, true, blog.Now()))
	fx.UsedPasskey = mustPasskeyByID(t, s, fx.UsedPasskey.ID)
	fx.Admin = mustGetUser(t, s, fx.Admin.ID)
	fx.Author = mustGetUser(t, s, fx.Author.ID)
	return fx
}

// populatedCounts is what Populate stores.
var populatedCounts = blog.Counts{Users: 5, Posts: 5, Invites: 3, Passkeys: 3}

// ExportAll exports s, checking that the counts Export returns are those
// of the records it emitted, and returns each record in JSON (the form a
// backup file holds them in, so two stores' records compare equal only
// if they would write the same file).
func ExportAll(t *testing.T, s blog.Store) ([]blog.Record, []string) {
	t.Helper()
	var (
		records []blog.Record
		lines   []string
		seen    blog.Counts
	)
	got, err := s.Export(context.Background(), func(r blog.Record) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		records = append(records, r)
		lines = append(lines, string(b))
		switch r.Kind() {
		case blog.RecordUser:
			seen.Users++
		case blog.RecordPost:
			seen.Posts++
		case blog.RecordInvite:
			seen.Invites++
		case blog.RecordPasskey:
			seen.Passkeys++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if got != seen {
		t.Fatalf("export returned counts %+v, emitted %+v", got, seen)
	}
	return records, lines
}

// Records yields records as a backup file would, then err if it is not
// nil.
func Records(records []blog.Record, err error) iter.Seq2[blog.Record, error] {
	return func(yield func(blog.Record, error) bool) {
		for _, r := range records {
			if !yield(r, nil) {
				return
			}
		}
		if err != nil {
			yield(blog.Record{}, err)
		}
	}
}

// SameRecords fails unless both exports hold the same records in the same
// order.
func SameRecords(t *testing.T, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("record %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

// Restore exports from, imports into to (which must be empty), and
// checks that to exports the same records and works as from did: sign-in,
// listings, look-alike names, invites, two-factor state and passkeys.
func Restore(t *testing.T, from, to blog.Store, fx BackupFixture) {
	t.Helper()
	ctx := context.Background()
	records, want := ExportAll(t, from)
	counts, err := from.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if empty, err := to.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty before import = %v, %v", empty, err)
	}
	imported, err := to.Import(ctx, Records(records, nil))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if imported != counts {
		t.Fatalf("imported %+v, Count of the original %+v", imported, counts)
	}
	if got, err := to.Count(ctx); err != nil || got != counts {
		t.Fatalf("Count after import = %+v, %v; want %+v", got, err, counts)
	}
	if empty, err := to.Empty(ctx); err != nil || empty {
		t.Fatalf("Empty after import = %v, %v", empty, err)
	}
	_, got := ExportAll(t, to)
	SameRecords(t, got, want)
	checkRestored(t, from, to, fx)
}

// checkRestored checks that to, restored from from, works as from does.
func checkRestored(t *testing.T, from, to blog.Store, fx BackupFixture) {
	t.Helper()
	ctx := context.Background()
	t.Run("SignIn", func(t *testing.T) {
		u, hash, err := to.Credentials(ctx, "ALICE")
		if err != nil || hash != "new-hash-of-Alice" || u != fx.Author {
			t.Fatalf("Credentials = %+v, %q, %v; want %+v", u, hash, err, fx.Author)
		}
		admin := mustGetUser(t, to, fx.Admin.ID)
		if admin != fx.Admin {
			t.Fatalf("admin = %+v, want %+v", admin, fx.Admin)
		}
		if ok, err := to.HasAdmin(ctx); err != nil || !ok {
			t.Fatalf("HasAdmin = %v, %v", ok, err)
		}
	})
	t.Run("Listings", func(t *testing.T) {
		for _, page := range []blog.Page{
			{Limit: 50},
			{Limit: 50, AuthorID: fx.Author.ID, Status: blog.StatusDraft},
		} {
			want, _, err := from.ListPosts(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := to.ListPosts(ctx, page)
			if err != nil || !slices.Equal(got, want) || len(got) == 0 {
				t.Fatalf("ListPosts(%+v) = %+v, %v; want %+v", page, got, err, want)
			}
		}
		want, err := from.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := to.ListUsers(ctx); err != nil || !slices.Equal(got, want) {
			t.Fatalf("ListUsers = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("LookAlikeRefused", func(t *testing.T) {
		_, err := to.CreateUser(ctx, blog.NewUser{Username: "AIice", PasswordHash: "x", Role: blog.RoleAuthor})
		wantErr(t, err, blog.ErrUsernameTaken)
		_, err = to.CreateUser(ctx, blog.NewUser{Username: "INVITED", PasswordHash: "x", Role: blog.RoleAuthor})
		wantErr(t, err, blog.ErrUsernameTaken)
	})
	t.Run("TwoFactor", func(t *testing.T) {
		for _, id := range []string{fx.Author.ID, fx.Starter.ID, fx.Admin.ID} {
			want, got := mustTwoFactor(t, from, id), mustTwoFactor(t, to, id)
			slices.Sort(want.RecoveryCodes)
			slices.Sort(got.RecoveryCodes)
			if got.TOTPSecret != want.TOTPSecret || got.TOTPEnabled != want.TOTPEnabled ||
				got.TOTPLastStep != want.TOTPLastStep || !slices.Equal(got.RecoveryCodes, want.RecoveryCodes) {
				t.Fatalf("two factor of %s = %+v, want %+v", id, got, want)
			}
		}
		// A used code stays used, an unused one works once.
		wantErr(t, to.UseRecoveryCode(ctx, fx.Author.ID, "Alice-03"), blog.ErrCodeUsed)
		if err := to.UseRecoveryCode(ctx, fx.Author.ID, "Alice-04"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, to.UseTOTPStep(ctx, fx.Author.ID, 107), blog.ErrCodeUsed)
	})
	t.Run("Passkeys", func(t *testing.T) {
		samePasskey(t, mustPasskeyByID(t, to, fx.UsedPasskey.ID), fx.UsedPasskey)
		for _, id := range []string{fx.Admin.ID, fx.Author.ID} {
			want, got := mustPasskeys(t, from, id), mustPasskeys(t, to, id)
			if len(got) != len(want) {
				t.Fatalf("passkeys of %s: %d, want %d", id, len(got), len(want))
			}
			for i := range want {
				samePasskey(t, got[i], want[i])
			}
		}
		wantErr(t, to.UsePasskey(ctx, fx.UsedPasskey.ID, 5, true, blog.Now()), blog.ErrPasskeyCounter)
		if err := to.UsePasskey(ctx, fx.UsedPasskey.ID, 6, true, blog.Now()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Invites", func(t *testing.T) {
		_, err := to.RedeemInvite(ctx, fx.UsedInvite, blog.NewUser{Username: "again", PasswordHash: "x"}, blog.Now())
		wantErr(t, err, blog.ErrInviteInvalid)
		u, err := to.RedeemInvite(ctx, fx.PendingInvite, blog.NewUser{Username: "newcomer", PasswordHash: "x"}, blog.Now())
		if err != nil || u.Role != blog.RoleAuthor {
			t.Fatalf("redeem the pending invite = %+v, %v", u, err)
		}
	})
}

func testBackup(t *testing.T, open Opener) {
	ctx := context.Background()
	from := open(t)
	fx := Populate(t, from)

	t.Run("Count", func(t *testing.T) {
		got, err := from.Count(ctx)
		if err != nil || got != populatedCounts {
			t.Fatalf("Count = %+v, %v; want %+v", got, err, populatedCounts)
		}
		if _, err := from.Export(ctx, func(blog.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if empty, err := from.Empty(ctx); err != nil || empty {
			t.Fatalf("Empty of a populated store = %v, %v", empty, err)
		}
		s := open(t)
		if err := s.SetSettings(ctx, blog.Settings{Title: "Settings only"}); err != nil {
			t.Fatal(err)
		}
		if empty, err := s.Empty(ctx); err != nil || !empty {
			t.Fatalf("Empty of a store with settings only = %v, %v", empty, err)
		}
		mustUser(t, s, "someone", blog.RoleAuthor)
		if empty, err := s.Empty(ctx); err != nil || empty {
			t.Fatalf("Empty of a store with a user = %v, %v", empty, err)
		}
	})
	t.Run("Order", func(t *testing.T) {
		records, _ := ExportAll(t, from)
		rank := map[string]int{blog.RecordSettings: 0, blog.RecordUser: 1, blog.RecordPost: 2, blog.RecordInvite: 3, blog.RecordPasskey: 4}
		for i, r := range records {
			if r.Kind() == "" || (i > 0 && rank[r.Kind()] < rank[records[i-1].Kind()]) {
				t.Fatalf("record %d is a %q after a %q", i, r.Kind(), records[i-1].Kind())
			}
		}
		if len(records) == 0 || records[0].Settings == nil || records[0].Settings.Title != "Kept «safe»" {
			t.Fatalf("first record = %+v, want the settings", records[0])
		}
	})
	t.Run("RoundTrip", func(t *testing.T) { Restore(t, from, open(t), fx) })
	t.Run("WritesDuringExport", func(t *testing.T) {
		// The blog keeps serving writes while a backup is taken, and
		// every post acknowledged before Export began is in it. (Whether
		// a post written during Export is depends on the store: the SQL
		// stores read one snapshot, MongoDB reads each collection as it
		// comes to it.)
		s := open(t)
		u := mustUser(t, s, "writer", blog.RoleAuthor)
		mustPost(t, s, u, "Before")
		var posts int
		_, err := s.Export(ctx, func(r blog.Record) error {
			if r.User != nil {
				// Export has begun: this lands after its view was taken.
				_, err := s.CreatePost(ctx, blog.NewPost{AuthorID: u.ID, Title: "During", Content: "content of During", ContentHTML: "<p>content of During</p>"})
				return err
			}
			if r.Post != nil {
				posts++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if posts == 0 {
			t.Fatalf("export held %d posts, want the one written before it", posts)
		}
	})
	t.Run("NotEmptyRefused", func(t *testing.T) {
		records, _ := ExportAll(t, from)
		s := open(t)
		mustUser(t, s, "resident", blog.RoleAuthor)
		_, before := ExportAll(t, s)
		_, err := s.Import(ctx, Records(records, nil))
		wantErr(t, err, blog.ErrNotEmpty)
		_, after := ExportAll(t, s)
		SameRecords(t, after, before)
	})
	t.Run("FailureLeavesEmpty", func(t *testing.T) {
		records, _ := ExportAll(t, from)
		broken := errors.New("backup file cut short")
		bad := *records[len(records)-1].Passkey
		bad.UserID = blog.NewID()
		for name, seq := range map[string]iter.Seq2[blog.Record, error]{
			"ReadError":     Records(records[:len(records)/2], broken),
			"BadReference":  Records(append(slices.Clone(records), blog.Record{Passkey: &bad}), nil),
			"InvalidRecord": Records(append(slices.Clone(records[:3]), blog.Record{}), nil),
			"Duplicate":     Records(append(slices.Clone(records), records[len(records)-1]), nil),
		} {
			t.Run(name, func(t *testing.T) {
				s := open(t)
				if _, err := s.Import(ctx, seq); err == nil {
					t.Fatal("import succeeded")
				} else if name == "ReadError" && !errors.Is(err, broken) {
					t.Fatalf("import error = %v, want the reader's", err)
				}
				if empty, err := s.Empty(ctx); err != nil || !empty {
					t.Fatalf("Empty after a failed import = %v, %v", empty, err)
				}
				if c, err := s.Count(ctx); err != nil || c != (blog.Counts{}) {
					t.Fatalf("Count after a failed import = %+v, %v", c, err)
				}
				if st, err := s.Settings(ctx); err != nil || st != blog.DefaultSettings() {
					t.Fatalf("settings after a failed import = %+v, %v", st, err)
				}
			})
		}
	})
}
