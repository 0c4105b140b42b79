package blog

import (
	"bytes"
	"time"
)

// PostStatus says who may read a post: everyone once it is published; only
// its author and admins while it is a draft.
type PostStatus string

// Post statuses. The zero value is neither; NewPost and PostInput read it
// as StatusPublished, so a client that never heard of drafts publishes as
// it always did.
const (
	StatusPublished PostStatus = "published"
	StatusDraft     PostStatus = "draft"
)

// Valid reports whether s is a known status.
func (s PostStatus) Valid() bool { return s == StatusPublished || s == StatusDraft }

// orPublished returns s, or StatusPublished for the zero value.
func (s PostStatus) orPublished() PostStatus {
	if s == "" {
		return StatusPublished
	}
	return s
}

// CanRead reports whether viewer (nil for an anonymous reader) may see p: a
// published post anyone may; a draft only its author and admins (whoever
// may edit it). It is the one rule for who sees a draft: the API and the
// website answer 404 to anyone else, so a draft's existence is not given
// away, and listings ask the store for published posts only.
func CanRead(viewer *User, p Post) bool {
	if p.Status != StatusDraft {
		return true
	}
	return viewer != nil && viewer.CanEdit(p)
}

// CheckCanRead returns nil if viewer may see p (CanRead), and
// ErrPostNotFound otherwise.
func CheckCanRead(viewer *User, p Post) error {
	if !CanRead(viewer, p) {
		return ErrPostNotFound
	}
	return nil
}

// publish marks p published at now, setting PublishedAt the first time
// only: unpublishing and publishing again keeps the original date, so a
// feed reader does not see an old post as new.
func (p *Post) publish(now time.Time) {
	p.Status = StatusPublished
	if p.PublishedAt.IsZero() {
		p.PublishedAt = NullTime{now}
	}
}

// NullTime is a time that may be absent: the zero time is "none", and
// JSON null. It is a value, not a *time.Time, so a Post stays comparable
// with == (the API's encoding cache relies on it).
type NullTime struct{ time.Time }

// Ptr returns the time, or nil if there is none (for drivers that write
// NULL for nil).
func (t NullTime) Ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t.Time
}

// MarshalJSON writes null for no time, and RFC 3339 otherwise.
func (t NullTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return t.Time.MarshalJSON()
}

// UnmarshalJSON reads null as no time.
func (t *NullTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = NullTime{}
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}

// checkStatus adds a field error unless s is empty (left as it is, or the
// default) or a known status.
func checkStatus(v *validation, s PostStatus) {
	if s != "" && !s.Valid() {
		v.add("body", "status", statusMsg)
	}
}

const statusMsg = `Status must be "draft" or "published"`
