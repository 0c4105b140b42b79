package blog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPostApply(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := created.Add(time.Hour)
	orig := Post{ID: NewID(), Title: "Old title", Content: "Old content", ContentHTML: "<p>Old content</p>", CreatedAt: created, UpdatedAt: created}
	title, content, html := "New title", "New content", "<p>New content</p>"
	tests := []struct {
		name string
		u    PostUpdate
		want Post
	}{
		{"TitleOnly", PostUpdate{Title: &title},
			Post{ID: orig.ID, Title: title, Content: orig.Content, ContentHTML: orig.ContentHTML, CreatedAt: created, UpdatedAt: now}},
		{"ContentOnly", PostUpdate{Content: &content, ContentHTML: &html},
			Post{ID: orig.ID, Title: orig.Title, Content: content, ContentHTML: html, CreatedAt: created, UpdatedAt: now}},
		{"Both", PostUpdate{Title: &title, Content: &content, ContentHTML: &html},
			Post{ID: orig.ID, Title: title, Content: content, ContentHTML: html, CreatedAt: created, UpdatedAt: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := orig
			p.Apply(tt.u, now)
			if p != tt.want {
				t.Fatalf("Apply = %+v\nwant    %+v", p, tt.want)
			}
		})
	}
}

func TestNewPostValidate(t *testing.T) {
	ok := NewPost{AuthorID: NewID(), Title: "A title", Content: "Some content here"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid post refused: %v", err)
	}
	for name, np := range map[string]NewPost{
		"Zero":             {},
		"ShortTitle":       {Title: "x", Content: ok.Content},
		"HiddenCharacter":  {Title: "A\u202Etitle", Content: ok.Content},
		"UntrimmedContent": {Title: ok.Title, Content: ok.Content + " "},
		"LongContent":      {Title: ok.Title, Content: strings.Repeat("x", ContentMax+1)},
	} {
		t.Run(name, func(t *testing.T) {
			err := np.Validate()
			var verr *ValidationError
			if ErrorCode(err) != EINVALID || !errors.Is(err, ErrInvalidPost) || !errors.As(err, &verr) {
				t.Fatalf("Validate = %v, want ErrInvalidPost with field errors", err)
			}
		})
	}
}

func TestPostUpdateValidate(t *testing.T) {
	title, content, html := "A title", "Some content here", "<p>Some content here</p>"
	if err := (PostUpdate{Title: &title}).Validate(); err != nil {
		t.Fatalf("title-only update refused: %v", err)
	}
	if err := (PostUpdate{Content: &content, ContentHTML: &html}).Validate(); err != nil {
		t.Fatalf("content update refused: %v", err)
	}
	if err := (PostUpdate{}).Validate(); !errors.Is(err, ErrInvalidPost) {
		t.Fatalf("empty update: %v, want ErrInvalidPost", err)
	}
	if err := (PostUpdate{Content: &content}).Validate(); err == nil || ErrorCode(err) != EINTERNAL {
		t.Fatalf("content without HTML: %v, want an internal error", err)
	}
}

func TestPageSize(t *testing.T) {
	for limit, want := range map[int]int{-1: DefaultPageLimit, 0: DefaultPageLimit, 1: 1, 50: 50, MaxPageLimit: MaxPageLimit, MaxPageLimit + 1: DefaultPageLimit} {
		if got := (Page{Limit: limit}).Size(); got != want {
			t.Errorf("Page{Limit: %d}.Size() = %d, want %d", limit, got, want)
		}
	}
}

func TestPasswordChangeTokenVersionBump(t *testing.T) {
	if n, err := PasswordRehashed.TokenVersionBump(); n != 0 || err != nil {
		t.Errorf("PasswordRehashed = %d, %v; want 0", n, err)
	}
	if n, err := PasswordChanged.TokenVersionBump(); n != 1 || err != nil {
		t.Errorf("PasswordChanged = %d, %v; want 1", n, err)
	}
	for _, c := range []PasswordChange{0, PasswordChanged + 1, -1} {
		if _, err := c.TokenVersionBump(); err == nil {
			t.Errorf("PasswordChange(%d) accepted", c)
		}
	}
}

// memFiller is a SkeletonFiller over a slice, with a unique skeleton index.
type memFiller struct {
	users     []UnskeletonedUser // ordered by (CreatedAt, ID)
	skeletons map[string]string  // user ID -> skeleton
	taken     map[string]bool
	reads     int
}

func (m *memFiller) UsersWithoutSkeleton(_ context.Context, after Cursor, limit int) ([]UnskeletonedUser, error) {
	m.reads++
	var out []UnskeletonedUser
	for _, u := range m.users {
		later := u.CreatedAt.After(after.CreatedAt) || (u.CreatedAt.Equal(after.CreatedAt) && u.ID > after.ID)
		if _, done := m.skeletons[u.ID]; !done && later && len(out) < limit {
			out = append(out, u)
		}
	}
	return out, nil
}

func (m *memFiller) SetSkeleton(_ context.Context, id, skeleton string) error {
	if m.taken[skeleton] {
		return ErrUsernameTaken
	}
	m.taken[skeleton] = true
	m.skeletons[id] = skeleton
	return nil
}

func TestFillSkeletons(t *testing.T) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &memFiller{skeletons: map[string]string{}, taken: map[string]bool{}}
	// More than a batch, so the cursor is used; "aIice" is a look-alike of
	// the older "alice" and keeps no skeleton.
	for i := range skeletonBatch + 10 {
		m.users = append(m.users, UnskeletonedUser{ID: NewID(), Username: "user" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)), CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	alice := UnskeletonedUser{ID: NewID(), Username: "alice", CreatedAt: base.Add(-2 * time.Second)}
	lookAlike := UnskeletonedUser{ID: NewID(), Username: "aIice", CreatedAt: base.Add(-time.Second)}
	m.users = append([]UnskeletonedUser{alice, lookAlike}, m.users...)
	conflicts, err := FillSkeletons(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if conflicts != 1 || m.skeletons[alice.ID] != UsernameSkeleton("alice") {
		t.Fatalf("conflicts = %d, alice's skeleton %q; want 1 and alice keeping hers", conflicts, m.skeletons[alice.ID])
	}
	if _, ok := m.skeletons[lookAlike.ID]; ok {
		t.Fatal("the younger look-alike got a skeleton")
	}
	if m.reads < 2 {
		t.Fatalf("%d reads for more than one batch", m.reads)
	}
}
