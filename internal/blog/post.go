package blog

import (
	"time"
)

// Post is a published post as readers see it.
type Post struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Content     string    `json:"content"`     // Markdown, exactly as written (after CleanText)
	ContentHTML string    `json:"contentHtml"` // Content rendered and sanitised
	Author      Author    `json:"author"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Author is the public face of a post's writer.
type Author struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// PostInput is what a client may send to create a post. Author, ID and
// timestamps are deliberately absent: the server sets them.
type PostInput struct {
	Title   string `json:"title"`
	Content string `json:"content"`
}

// Clean normalises the input in place and validates it. It returns a
// *ValidationError listing every bad field.
func (in *PostInput) Clean() error {
	in.Title = CleanLine(in.Title)
	in.Content = CleanText(in.Content)
	var v validation
	checkTitle(&v, in.Title)
	checkContent(&v, in.Content)
	return v.err()
}

// PostPatch is a partial update: nil fields are left as they are.
type PostPatch struct {
	Title   *string `json:"title"`
	Content *string `json:"content"`
}

// Clean normalises and validates the fields that are present. An empty
// patch is invalid: it would change nothing and is most likely a mistake.
func (p *PostPatch) Clean() error {
	var v validation
	if p.Title == nil && p.Content == nil {
		v.add("body", "title", "Nothing to update: send title or content")
		return v.err()
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

// NewPost is what a store needs to create a post; the caller has cleaned
// and rendered it.
type NewPost struct {
	AuthorID    string
	Title       string
	Content     string
	ContentHTML string
}

// PostUpdate is what a store needs to change a post; nil fields stay.
// ContentHTML must be set whenever Content is.
type PostUpdate struct {
	Title       *string
	Content     *string
	ContentHTML *string
}

// Page asks for one page of the newest-first feed.
type Page struct {
	Limit int     // 1..MaxPageLimit
	After *Cursor // nil for the first page
}

// Page sizes.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)
