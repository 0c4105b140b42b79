package blog

import (
	"errors"
	"fmt"
	"time"
)

// Post is a post as readers (or, for a draft, its author) see it.
type Post struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Content     string     `json:"content"`     // Markdown, exactly as written (after CleanText)
	ContentHTML string     `json:"contentHtml"` // Content rendered and sanitised
	Author      Author     `json:"author"`
	Status      PostStatus `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	// PublishedAt is when the post was first published; zero (JSON null)
	// for a draft that never was. It never changes once set (see Apply).
	PublishedAt NullTime `json:"publishedAt"`
}

// IsDraft reports whether p is a draft (templates use it).
func (p Post) IsDraft() bool { return p.Status == StatusDraft }

// Author is the public face of a post's writer.
type Author struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// PostInput is what a client may send to create a post. Author, ID and
// timestamps are deliberately absent: the server sets them.
type PostInput struct {
	Title   string     `json:"title"`
	Content string     `json:"content"`
	Status  PostStatus `json:"status"` // empty: published
}

// Clean normalises the input in place and validates it. It returns a
// *ValidationError listing every bad field.
func (in *PostInput) Clean() error {
	in.Title = CleanLine(in.Title)
	in.Content = CleanText(in.Content)
	var v validation
	checkTitle(&v, in.Title)
	checkContent(&v, in.Content)
	checkStatus(&v, in.Status)
	return v.err()
}

// PostPatch is a partial update: nil fields are left as they are.
type PostPatch struct {
	Title   *string     `json:"title"`
	Content *string     `json:"content"`
	Status  *PostStatus `json:"status"`
}

const nothingToUpdate = "Nothing to update: send title, content or status"

// Clean normalises and validates the fields that are present. An empty
// patch is invalid: it would change nothing and is most likely a mistake.
func (p *PostPatch) Clean() error {
	var v validation
	if p.Title == nil && p.Content == nil && p.Status == nil {
		v.add("body", "title", nothingToUpdate)
		return v.err()
	}
	if p.Status != nil && !p.Status.Valid() {
		v.add("body", "status", statusMsg)
	}
	if p.Title != nil {
		t := CleanLine(*p.Title)
		p.Title = &t
		checkTitle(&v, t)
	}
	if p.Content != nil {
		c := CleanText(*p.Content)
		p.Content = &c
		checkContent(&v, c)
	}
	return v.err()
}

// NewPost is what a store needs to create a post: PostInput after Clean,
// with Content rendered into ContentHTML by the caller. Stores call
// Validate before anything else and refuse a post that was not cleaned,
// so a caller that forgets Clean gets an EINVALID error, never a stored
// post with a hidden character or an empty title.
type NewPost struct {
	AuthorID    string
	Title       string
	Content     string
	ContentHTML string
	Status      PostStatus // empty: published
}

// Post returns the post np creates, with its ID, author and time: a
// published post gets PublishedAt = CreatedAt, a draft none. Stores call
// it so the rule lives here, not in each of them.
func (np NewPost) Post(id string, author Author, now time.Time) Post {
	p := Post{
		ID:          id,
		Title:       np.Title,
		Content:     np.Content,
		ContentHTML: np.ContentHTML,
		Author:      author,
		Status:      StatusDraft,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if np.Status.orPublished() == StatusPublished {
		p.publish(now)
	}
	return p
}

// Validate returns nil if np holds what PostInput.Clean would have made:
// Title and Content already clean (cleaning them again changes nothing)
// and within their length limits. Otherwise it returns ErrInvalidPost,
// wrapping a *ValidationError that names each bad field. ContentHTML is
// the renderer's and is not checked; AuthorID is the store's to look up.
func (np NewPost) Validate() error {
	var v validation
	checkCleanTitle(&v, np.Title)
	checkCleanContent(&v, np.Content)
	checkStatus(&v, np.Status)
	return invalidPost(v.err())
}

// PostUpdate is what a store needs to change a post: PostPatch after Clean;
// nil fields stay. ContentHTML must be set whenever Content is. Stores call
// Validate before anything else, as for NewPost.
type PostUpdate struct {
	Title       *string
	Content     *string
	ContentHTML *string
	Status      *PostStatus
}

// Validate returns nil if u holds what PostPatch.Clean would have made: at
// least one field, each present field clean and within its limits. Otherwise
// it returns ErrInvalidPost wrapping a *ValidationError. Content without
// ContentHTML is the caller's bug, not the client's: an internal error.
func (u PostUpdate) Validate() error {
	if u.Content != nil && u.ContentHTML == nil {
		return errors.New("post update: content changed without its HTML")
	}
	var v validation
	if u.Title == nil && u.Content == nil && u.Status == nil {
		v.add("body", "title", nothingToUpdate)
	}
	if u.Status != nil && !u.Status.Valid() {
		v.add("body", "status", statusMsg)
	}
	if u.Title != nil {
		checkCleanTitle(&v, *u.Title)
	}
	if u.Content != nil {
		checkCleanContent(&v, *u.Content)
	}
	return invalidPost(v.err())
}

// Apply changes p as u says, at time now: the fields u sets (Content
// always with its ContentHTML) and UpdatedAt. Publishing sets PublishedAt
// the first time only; making a post a draft again keeps it. u must have
// passed Validate.
func (p *Post) Apply(u PostUpdate, now time.Time) {
	if u.Status != nil {
		if *u.Status == StatusPublished {
			p.publish(now)
		} else {
			p.Status = *u.Status
		}
	}
	if u.Title != nil {
		p.Title = *u.Title
	}
	if u.Content != nil && u.ContentHTML != nil {
		p.Content, p.ContentHTML = *u.Content, *u.ContentHTML
	}
	p.UpdatedAt = now
}

// invalidPost marks a validation failure with ErrInvalidPost, so that its
// code is EINVALID while the field errors stay reachable with errors.As.
func invalidPost(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidPost, err)
}

// Page asks for one page of the newest-first feed.
type Page struct {
	Limit int     // 1..MaxPageLimit
	After *Cursor // nil for the first page
	// AuthorID, if set, keeps only that author's posts.
	AuthorID string
	// Status keeps only posts with this status; empty means published. A
	// page of drafts is for whoever may read them (CanRead): callers ask
	// for one with AuthorID set to the signed-in user.
	Status PostStatus
}

// ListStatus returns the status page lists: page.Status, or
// StatusPublished when it is empty.
func (page Page) ListStatus() PostStatus { return page.Status.orPublished() }

// Size returns the number of posts to return: page.Limit, or
// DefaultPageLimit when that is out of 1..MaxPageLimit.
func (page Page) Size() int {
	if page.Limit < 1 || page.Limit > MaxPageLimit {
		return DefaultPageLimit
	}
	return page.Limit
}

// Page sizes.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)
