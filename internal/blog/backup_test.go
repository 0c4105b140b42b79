package blog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

func TestRecordValidate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	user := func() *blog.UserRecord {
		return &blog.UserRecord{ID: blog.NewID(), Username: "alice", PasswordHash: "h", Role: blog.RoleAuthor, CreatedAt: now}
	}
	post := func() *blog.PostRecord {
		return &blog.PostRecord{ID: blog.NewID(), AuthorID: blog.NewID(), Title: "t", Status: blog.StatusDraft, CreatedAt: now, UpdatedAt: now}
	}
	invite := func() *blog.InviteRecord {
		_, hash := blog.NewInviteToken()
		return &blog.InviteRecord{Invite: blog.Invite{ID: blog.NewID(), Role: blog.RoleAdmin, CreatedAt: now, ExpiresAt: now}, TokenHash: hash}
	}
	passkey := func() *blog.PasskeyRecord {
		return &blog.PasskeyRecord{ID: "cred", UserID: blog.NewID(), Name: "Phone", PublicKey: []byte{1}, CreatedAt: now}
	}
	with := func(r blog.Record, change func(blog.Record)) blog.Record { change(r); return r }
	valid := map[string]blog.Record{
		"Settings": {Settings: &blog.Settings{Title: "Blog"}},
		"User":     {User: user()},
		"Post":     {Post: post()},
		// A draft that was published once keeps its time; titles and
		// content at their maximum lengths, in four-byte characters.
		"PostLongest": with(blog.Record{Post: post()}, func(r blog.Record) {
			r.Post.Title, r.Post.Content, r.Post.PublishedAt = strings.Repeat("😀", blog.TitleMax), strings.Repeat("😀", blog.ContentMax), &now
		}),
		"PostPublished": with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Status, r.Post.PublishedAt = blog.StatusPublished, &now }),
		"UserLongest":   with(blog.Record{User: user()}, func(r blog.Record) { r.User.Username = strings.Repeat("a", blog.UsernameMax) }),
		"Invite":        {Invite: invite()},
		"Passkey":       {Passkey: passkey()},
	}
	for name, r := range valid {
		t.Run(name, func(t *testing.T) {
			if err := r.Validate(); err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if r.Kind() == "" {
				t.Fatal("no kind")
			}
		})
	}
	invalid := map[string]blog.Record{
		"Nothing":             {},
		"Two":                 {User: user(), Post: post()},
		"SettingsTitle":       {Settings: &blog.Settings{}},
		"UserID":              with(blog.Record{User: user()}, func(r blog.Record) { r.User.ID = "1 OR 1=1" }),
		"UserRole":            with(blog.Record{User: user()}, func(r blog.Record) { r.User.Role = "root" }),
		"UserName":            with(blog.Record{User: user()}, func(r blog.Record) { r.User.Username = "" }),
		"UserEscapes":         with(blog.Record{User: user()}, func(r blog.Record) { r.User.Username = "\x1b[2J\x1b]0;pwned\abob\u202e x" }),
		"UserRTL":             with(blog.Record{User: user()}, func(r blog.Record) { r.User.Username = "bob\u202e" }),
		"UserLong":            with(blog.Record{User: user()}, func(r blog.Record) { r.User.Username = strings.Repeat("x", 200_000) }),
		"PostTitleNUL":        with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Title = "a\x00b" }),
		"PostTitleESC":        with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Title = "a\x1b[31mb" }),
		"PostTitleLong":       with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Title = strings.Repeat("t", blog.TitleMax+1) }),
		"PostContentESC":      with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Content = "a\x1b]8;;x\a" }),
		"PostContentLong":     with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Content = strings.Repeat("c", blog.ContentMax+1) }),
		"PostPublishedNoTime": with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Status = blog.StatusPublished }),
		"PasskeyName":         with(blog.Record{Passkey: passkey()}, func(r blog.Record) { r.Passkey.Name = "a\x1b[2Jb" }),
		"PasskeyNoName":       with(blog.Record{Passkey: passkey()}, func(r blog.Record) { r.Passkey.Name = "" }),
		"PostAuthor":          with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.AuthorID = "" }),
		"PostStatus":          with(blog.Record{Post: post()}, func(r blog.Record) { r.Post.Status = "secret" }),
		"InviteHash":          with(blog.Record{Invite: invite()}, func(r blog.Record) { r.Invite.TokenHash = "plain-token" }),
		"InviteUsedBy":        with(blog.Record{Invite: invite()}, func(r blog.Record) { r.Invite.UsedBy = "someone" }),
		"PasskeyNoKey":        with(blog.Record{Passkey: passkey()}, func(r blog.Record) { r.Passkey.PublicKey = nil }),
		"PasskeyAccount":      with(blog.Record{Passkey: passkey()}, func(r blog.Record) { r.Passkey.UserID = "x" }),
	}
	for name, r := range invalid {
		t.Run("Invalid"+name, func(t *testing.T) {
			if code := blog.ErrorCode(r.Validate()); code != blog.EINVALID {
				t.Fatalf("Validate code = %q, want %q", code, blog.EINVALID)
			}
		})
	}
}
