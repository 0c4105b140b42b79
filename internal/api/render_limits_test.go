package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/api"
	"github.com/palisade-blog/palisade/internal/blog"
)

// tableBomb is 2.4 KB that goldmark rendered to 3.1 MB of HTML: a header
// of 100 columns, then 1,000 rows of "|", each padded to 100 cells.
var tableBomb = strings.Repeat("|a", 100) + "|\n" + strings.Repeat("|-", 100) + "|\n" + strings.Repeat("|\n", 1000)

// costlyContent is the red team's content: each is refused before it is
// rendered in full, with the message fragment shown.
var costlyContent = []struct{ name, content, msg string }{
	{"TableBomb", tableBomb, "table cells"},
	{"ListNesting", strings.Repeat("- ", 49_999) + "a", "nested too deeply"},
	{"QuoteNesting", strings.Repeat(">", 50_000), "nested too deeply"},
	{"BracketRun", strings.Repeat("[", 50_000), "inline markup"},
	{"EmptyLinkRun", strings.Repeat("[](", 16_000), "inline markup"},
	{"EmphasisRun", strings.Repeat("a* ", 20_000), "inline markup"},
}

// wantContentError checks a 400 in express-validator's shape: one error,
// on the body's content, whose message contains msg.
func wantContentError(t *testing.T, r *response, msg string) {
	t.Helper()
	wantStatus(t, r, http.StatusBadRequest)
	var b struct{ Errors []blog.FieldError }
	r.JSON(t, &b)
	if len(b.Errors) != 1 {
		t.Fatalf("errors = %s, want one", r.Body)
	}
	e := b.Errors[0]
	if e.Type != "field" || e.Location != "body" || e.Path != "content" || !strings.Contains(e.Msg, msg) {
		t.Fatalf("error = %+v, want a field error on content saying %q", e, msg)
	}
}

// TestContentTooCostlyToRender: content that would multiply into megabytes
// of HTML or take seconds to parse is refused with a 400 that says why,
// and nothing is stored; an honest table and list are accepted.
func TestContentTooCostlyToRender(t *testing.T) {
	ts := newServer(t, nil)
	token := ts.SignUp(t, "alice")
	honest := ts.createPost(t, token, "A table", "| name | value |\n|------|-------|\n| a | 1 |\n| b | 2 |\n\n- one\n  - two\n    - three")
	if !strings.Contains(honest.ContentHTML, "<td>2</td>") || !strings.Contains(honest.ContentHTML, "<li>three</li>") {
		t.Fatalf("honest post rendered as %q", honest.ContentHTML)
	}
	for _, tt := range costlyContent {
		t.Run("Create"+tt.name, func(t *testing.T) {
			r := ts.Post(t, "/posts", token, map[string]string{"title": "Costly", "content": tt.content})
			wantContentError(t, r, tt.msg)
		})
		t.Run("Edit"+tt.name, func(t *testing.T) {
			r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + honest.ID, Token: token, Body: map[string]string{"content": tt.content}})
			wantContentError(t, r, tt.msg)
		})
	}
	posts, _, err := ts.Store.ListPosts(t.Context(), blog.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || posts[0] != honest {
		t.Fatalf("after refused requests the store holds %d posts (%+v), want only the honest one unchanged", len(posts), posts)
	}
}

// TestEditRefusedBeforeRender: an edit of someone else's post or of a post
// that does not exist is refused before the content is validated or
// rendered. The content here would fail the rendering limits (400): that
// the answer is 403 or 404 shows rendering never began.
func TestEditRefusedBeforeRender(t *testing.T) {
	ts := newServer(t, nil)
	alice := ts.SignUp(t, "alice")
	mallory := ts.SignUp(t, "mallory")
	p := ts.createPost(t, alice, "Alice's post", "Written by Alice alone.")
	for _, content := range []string{tableBomb, strings.Repeat("c", blog.ContentMax+1)} {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: mallory, Body: map[string]string{"content": content}})
		wantStatus(t, r, http.StatusForbidden)
		r = ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + blog.NewID(), Token: alice, Body: map[string]string{"content": content}})
		wantStatus(t, r, http.StatusNotFound)
	}
	if !strings.Contains(ts.Logs.String(), `"event":"forbidden"`) {
		t.Fatal("forbidden attempt not logged as a security event")
	}
	if got, err := ts.Store.PostByID(t.Context(), p.ID); err != nil || got != p {
		t.Fatalf("post after refused edits = %+v, %v", got, err)
	}
	// The author's own edit goes through as before.
	r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: alice, Body: map[string]string{"content": "Now *edited* by Alice."}})
	wantStatus(t, r, http.StatusOK)
}

// TestFeedBounded: posts stored before the rendering limits, or written to
// the database directly, cannot make GET /posts unbounded. A post larger
// than the API accepts shows a notice in the feed (and is whole on its own
// page); a page stops at api.FeedPageBytes and links to the rest.
func TestFeedBounded(t *testing.T) {
	ts := newServer(t, nil)
	token := ts.SignUp(t, "alice")
	author := ts.createPost(t, token, "First post", "An honest first post.").Author
	huge := strings.Repeat("<td></td>", 2_000_000) // 18 MB of "rendered" HTML
	big := strings.Repeat("<p>x</p>", 100_000)     // 800 KB: within the bound
	var hugeID string
	for i, html := range []string{big, big, big, big, huge} {
		p, err := ts.Store.CreatePost(t.Context(), blog.NewPost{AuthorID: author.ID, Title: "Stored directly", Content: "Stored content " + strings.Repeat("x", i+1), ContentHTML: html})
		if err != nil {
			t.Fatal(err)
		}
		hugeID = p.ID
	}

	r := ts.Get(t, "/posts", "")
	wantStatus(t, r, http.StatusOK)
	// The newest post is the huge one, shown as a notice; two of the
	// 800 KB posts fit in the page's budget, even JSON-escaped.
	if len(r.Body) > api.FeedPageBytes+1<<20 {
		t.Fatalf("feed page is %d bytes", len(r.Body))
	}
	var page []blog.Post
	r.JSON(t, &page)
	if len(page) == 0 || page[0].ID != hugeID || !strings.Contains(page[0].ContentHTML, "too large to show in the feed") {
		t.Fatalf("first post of the feed = %.200v", page)
	}
	if len(page) >= 6 || r.Header.Get("Link") == "" {
		t.Fatalf("feed page has %d posts, Link %q: want it cut, with a link to the rest", len(page), r.Header.Get("Link"))
	}
	// Following the links reaches every post exactly once.
	seen := len(page)
	for link := r.Header.Get("Link"); link != ""; link = r.Header.Get("Link") {
		m := linkNext.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("Link %q", link)
		}
		u, err := url.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		r = ts.Get(t, u.RequestURI(), "")
		wantStatus(t, r, http.StatusOK)
		r.JSON(t, &page)
		seen += len(page)
	}
	if seen != 6 {
		t.Fatalf("pages held %d posts, want 6", seen)
	}
	// The post's own page serves it whole.
	r = ts.Get(t, "/posts/"+hugeID, "")
	wantStatus(t, r, http.StatusOK)
	var whole blog.Post
	r.JSON(t, &whole)
	if whole.ContentHTML != huge {
		t.Fatalf("GET /posts/{id} contentHtml is %d bytes, want the stored %d", len(whole.ContentHTML), len(huge))
	}
}
