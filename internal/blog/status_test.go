package blog

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestCanRead(t *testing.T) {
	author := User{ID: "a", Role: RoleAuthor}
	other := User{ID: "b", Role: RoleAuthor}
	admin := User{ID: "c", Role: RoleAdmin}
	disabled := User{ID: "a", Role: RoleAuthor, Disabled: true}
	draft := Post{Author: Author{ID: "a"}, Status: StatusDraft}
	published := Post{Author: Author{ID: "a"}, Status: StatusPublished}
	legacy := Post{Author: Author{ID: "a"}} // no status: read as published
	for _, c := range []struct {
		name   string
		viewer *User
		post   Post
		want   bool
	}{
		{"AnonymousPublished", nil, published, true},
		{"AnonymousLegacy", nil, legacy, true},
		{"AnonymousDraft", nil, draft, false},
		{"OtherAuthorDraft", &other, draft, false},
		{"DisabledAuthorDraft", &disabled, draft, false},
		{"AuthorDraft", &author, draft, true},
		{"AdminDraft", &admin, draft, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := CanRead(c.viewer, c.post); got != c.want {
				t.Errorf("CanRead = %v, want %v", got, c.want)
			}
			if err := CheckCanRead(c.viewer, c.post); (err == nil) != c.want || err != nil && ErrorCode(err) != ENOTFOUND {
				t.Errorf("CheckCanRead = %v", err)
			}
		})
	}
	t.Run("CheckCanEdit", func(t *testing.T) {
		if err := CheckCanEdit(other, draft); ErrorCode(err) != ENOTFOUND {
			t.Errorf("someone else's draft: %v, want ENOTFOUND", err)
		}
		if err := CheckCanEdit(other, published); ErrorCode(err) != EFORBIDDEN {
			t.Errorf("someone else's post: %v, want EFORBIDDEN", err)
		}
		if err := CheckCanEdit(admin, draft); err != nil {
			t.Errorf("admin: %v", err)
		}
	})
}

func TestPublishSetsPublishedAtOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := NewPost{Title: "A draft", Content: "Some content.", Status: StatusDraft}.Post("id", Author{ID: "a"}, t0)
	if p.Status != StatusDraft || !p.PublishedAt.IsZero() {
		t.Fatalf("new draft = %+v", p)
	}
	if q := (NewPost{Title: "Published"}).Post("id2", Author{}, t0); q.Status != StatusPublished || !q.PublishedAt.Equal(t0) {
		t.Fatalf("new post without a status = %+v, want published at creation", q)
	}
	pub, draft := StatusPublished, StatusDraft
	t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	p.Apply(PostUpdate{Status: &pub}, t1)
	if p.Status != StatusPublished || !p.PublishedAt.Equal(t1) || !p.UpdatedAt.Equal(t1) {
		t.Fatalf("published = %+v", p)
	}
	p.Apply(PostUpdate{Status: &draft}, t2)
	p.Apply(PostUpdate{Status: &pub}, t3)
	if !p.PublishedAt.Equal(t1) {
		t.Fatalf("publishedAt = %v after publishing again, want the first, %v", p.PublishedAt, t1)
	}
}

func TestStatusValidation(t *testing.T) {
	bad := PostStatus("secret")
	empty := PostStatus("")
	for name, err := range map[string]error{
		"InputUnknown": (&PostInput{Title: "Title", Content: "Long enough content", Status: bad}).Clean(),
		"PatchUnknown": (&PostPatch{Status: &bad}).Clean(),
		"PatchEmpty":   (&PostPatch{Status: &empty}).Clean(),
		"NewPost":      NewPost{Title: "Title", Content: "Long enough content", Status: bad}.Validate(),
		"Update":       PostUpdate{Status: &bad}.Validate(),
	} {
		var verr *ValidationError
		if !errors.As(err, &verr) || len(verr.Fields) != 1 || verr.Fields[0].Path != "status" {
			t.Errorf("%s: %v, want one field error on status", name, err)
		}
	}
	draft := StatusDraft
	if err := (&PostPatch{Status: &draft}).Clean(); err != nil {
		t.Errorf("a patch of the status alone: %v", err)
	}
	if err := (PostUpdate{Status: &draft}).Validate(); err != nil {
		t.Errorf("an update of the status alone: %v", err)
	}
}

func TestNullTimeJSON(t *testing.T) {
	var none NullTime
	if b, err := json.Marshal(none); err != nil || string(b) != "null" {
		t.Errorf("zero = %s, %v", b, err)
	}
	t0 := NullTime{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	b, err := json.Marshal(t0)
	if err != nil || string(b) != `"2026-01-02T03:04:05Z"` {
		t.Fatalf("time = %s, %v", b, err)
	}
	var back NullTime
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(t0.Time) {
		t.Errorf("round trip = %v, %v", back, err)
	}
	back = t0
	if err := json.Unmarshal([]byte("null"), &back); err != nil || !back.IsZero() {
		t.Errorf("null = %v, %v", back, err)
	}
}
