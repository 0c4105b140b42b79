package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

func TestPostLifecycle(t *testing.T) { apptest.ForEachStore(t, testPostLifecycle) }

func testPostLifecycle(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	token := ts.SignUp(t, "alice")

	p := ts.createPost(t, token, "  Hello, world  ", "My first **post** on Palisade.")
	if p.Title != "Hello, world" || p.Author.Username != "alice" || p.ContentHTML != "<p>My first <strong>post</strong> on Palisade.</p>\n" {
		t.Fatalf("created = %+v", p)
	}

	t.Run("Read", func(t *testing.T) {
		r := ts.Get(t, "/posts/"+p.ID, "")
		wantStatus(t, r, http.StatusOK)
		var got blog.Post
		r.JSON(t, &got)
		if got != p {
			t.Fatalf("GET = %+v\nwant %+v", got, p)
		}
	})
	t.Run("Edit", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: token, Body: map[string]string{"title": "Hello again"}})
		wantStatus(t, r, http.StatusOK)
		var got blog.Post
		r.JSON(t, &got)
		if got.Title != "Hello again" || got.Content != p.Content || !got.UpdatedAt.After(p.UpdatedAt) && !got.UpdatedAt.Equal(p.UpdatedAt) {
			t.Fatalf("patched = %+v", got)
		}
	})
	t.Run("EditContentRerenders", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: token, Body: map[string]string{"content": "Now *emphasised* text"}})
		wantStatus(t, r, http.StatusOK)
		var got blog.Post
		r.JSON(t, &got)
		if got.ContentHTML != "<p>Now <em>emphasised</em> text</p>\n" {
			t.Fatalf("contentHtml = %q", got.ContentHTML)
		}
	})
	t.Run("EditInvalid", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: token, Body: map[string]string{"title": "x"}})
		wantStatus(t, r, http.StatusBadRequest)
		r = ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: token, Body: map[string]string{}})
		wantStatus(t, r, http.StatusBadRequest)
	})
	t.Run("Delete", func(t *testing.T) {
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/posts/" + p.ID, Token: token}), http.StatusNoContent)
		r := ts.Get(t, "/posts/"+p.ID, "")
		wantStatus(t, r, http.StatusNotFound)
		if r.ErrorText(t) != "Not Found" {
			t.Fatalf("body %s", r.Body)
		}
	})
}

func TestValidationMessages(t *testing.T) { apptest.ForEachStore(t, testValidationMessages) }

func testValidationMessages(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	token := ts.SignUp(t, "alice")
	tests := []struct {
		name, title, content string
		want                 map[string]string // path → msg
	}{
		{"TitleTooShort", "ab", "Long enough content", map[string]string{"title": "Title too short"}},
		{"TitleOnlySpaces", "      ", "Long enough content", map[string]string{"title": "Title too short"}},
		{"TitleTooLong", strings.Repeat("t", 201), "Long enough content", map[string]string{"title": "Title too long"}},
		{"ContentTooShort", "Fine title", "short", map[string]string{"content": "Content too short"}},
		{"ContentTooLong", "Fine title", strings.Repeat("c", 100_001), map[string]string{"content": "Content too long"}},
		{"Both", "", "", map[string]string{"title": "Title too short", "content": "Content too short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.Post(t, "/posts", token, map[string]string{"title": tt.title, "content": tt.content})
			wantStatus(t, r, http.StatusBadRequest)
			var b struct{ Errors []blog.FieldError }
			r.JSON(t, &b)
			got := map[string]string{}
			for _, e := range b.Errors {
				if e.Type != "field" || e.Location != "body" {
					t.Fatalf("error %+v not in express-validator's shape", e)
				}
				got[e.Path] = e.Msg
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("errors = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("LengthsInCharacters", func(t *testing.T) {
		// 200 three-byte characters are 600 bytes but a valid title.
		ts.createPost(t, token, strings.Repeat("界", 200), "Long enough content")
	})
	page, _, err := ts.Store.ListPosts(t.Context(), blog.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 {
		t.Fatalf("%d posts stored, want only the valid one", len(page))
	}
}

func TestAuthorization(t *testing.T) { apptest.ForEachStore(t, testAuthorization) }

func testAuthorization(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	alice := ts.SignUp(t, "alice")
	mallory := ts.SignUp(t, "mallory")
	p := ts.createPost(t, alice, "Alice's post", "Written by Alice alone.")

	t.Run("OtherUserCannotEdit", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: mallory, Body: map[string]string{"title": "pwned"}})
		wantStatus(t, r, http.StatusForbidden)
		if r.ErrorText(t) != "Forbidden" {
			t.Fatalf("body %s", r.Body)
		}
	})
	t.Run("OtherUserCannotDelete", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodDelete, Path: "/posts/" + p.ID, Token: mallory})
		wantStatus(t, r, http.StatusForbidden)
	})
	t.Run("Unchanged", func(t *testing.T) {
		got, err := ts.Store.PostByID(t.Context(), p.ID)
		if err != nil || got != p {
			t.Fatalf("post after refused attempts = %+v, %v", got, err)
		}
	})
	t.Run("ClientCannotSetAuthorOrID", func(t *testing.T) {
		for _, field := range []string{"author", "id", "createdAt", "updatedAt", "authorId"} {
			body := fmt.Sprintf(`{"title":"Sneaky","content":"Attributed to someone else","%s":"x"}`, field)
			r := ts.Do(t, request{Method: http.MethodPost, Path: "/posts", Token: mallory, Body: body})
			wantStatus(t, r, http.StatusBadRequest)
		}
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: alice, Body: `{"author":{"id":"x","username":"mallory"}}`})
		wantStatus(t, r, http.StatusBadRequest)
	})
	t.Run("ForbiddenIsLogged", func(t *testing.T) {
		if !strings.Contains(ts.Logs.String(), `"event":"forbidden"`) {
			t.Fatal("forbidden attempt not logged as a security event")
		}
	})
	t.Run("AdminCanModerate", func(t *testing.T) {
		id := ts.Register(t, "moderator")
		if err := ts.Store.SetRole(t.Context(), id, blog.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		admin := ts.Login(t, "moderator")
		r := ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: admin, Body: map[string]string{"title": "Moderated"}})
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, ts.Do(t, request{Method: http.MethodDelete, Path: "/posts/" + p.ID, Token: admin}), http.StatusNoContent)
	})
	t.Run("UnknownPost", func(t *testing.T) {
		for _, id := range []string{blog.NewID(), "1", "..%2f..%2fetc%2fpasswd", "' OR '1'='1"} {
			r := ts.Do(t, request{Method: http.MethodDelete, Path: "/posts/" + url.PathEscape(id), Token: alice})
			wantStatus(t, r, http.StatusNotFound)
		}
	})
}

// TestXSSStoredVerbatimEncodedOnOutput: text is stored as written (never
// HTML-escaped into the database, so never escaped twice), JSON encodes
// the markup so it cannot run if sniffed as HTML, and contentHtml is
// sanitised.
func TestXSSStoredVerbatimEncodedOnOutput(t *testing.T) {
	apptest.ForEachStore(t, testXSSStoredVerbatimEncodedOnOutput)
}

func testXSSStoredVerbatimEncodedOnOutput(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	token := ts.SignUp(t, "alice")
	title := `<script>alert(1)</script>`
	content := `<img src=x onerror=alert(2)> and Tom & Jerry's "quotes"`
	p := ts.createPost(t, token, title, content)

	stored, err := ts.Store.PostByID(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Title != title || stored.Content != content {
		t.Fatalf("stored %q / %q, want them verbatim", stored.Title, stored.Content)
	}
	r := ts.Get(t, "/posts/"+p.ID, "")
	if strings.Contains(string(r.Body), "<script") || strings.Contains(string(r.Body), "<img") {
		t.Fatalf("raw markup in JSON: %s", r.Body)
	}
	if strings.Contains(string(r.Body), "&lt;") || strings.Contains(string(r.Body), "&amp;amp;") {
		t.Fatalf("text HTML-escaped into JSON (double escaping): %s", r.Body)
	}
	if !strings.Contains(string(r.Body), `\u003cscript\u003e`) {
		t.Fatalf("title not JSON-encoded: %s", r.Body)
	}
	if strings.Contains(stored.ContentHTML, "<img") || !strings.Contains(stored.ContentHTML, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Fatalf("contentHtml not sanitised: %q", stored.ContentHTML)
	}
	if r.Header.Get("Content-Type") != "application/json; charset=utf-8" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("JSON could be sniffed as HTML")
	}
}

// TestSQLMetacharacters sends SQL and NoSQL metacharacters in every field
// and query parameter; they are data, stored and returned byte for byte.
func TestSQLMetacharacters(t *testing.T) { apptest.ForEachStore(t, testSQLMetacharacters) }

func testSQLMetacharacters(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	token := ts.SignUp(t, "alice")
	evil := []string{
		`'; DROP TABLE posts; --`,
		`" OR "1"="1" --`,
		`1; UPDATE users SET role='admin' --`,
		`\x27 UNION SELECT password_hash FROM users --`,
	}
	for i, s := range evil {
		t.Run(fmt.Sprint("Body", i), func(t *testing.T) {
			p := ts.createPost(t, token, s, s+" (content)")
			got, err := ts.Store.PostByID(t.Context(), p.ID)
			if err != nil || got.Title != s {
				t.Fatalf("stored %q, want %q", got.Title, s)
			}
		})
		t.Run(fmt.Sprint("Query", i), func(t *testing.T) {
			for _, q := range []string{"limit=" + url.QueryEscape(s), "cursor=" + url.QueryEscape(s)} {
				r := ts.Get(t, "/posts?"+q, "")
				wantStatus(t, r, http.StatusBadRequest)
			}
			r := ts.Get(t, "/posts/"+url.PathEscape(s), "")
			wantStatus(t, r, http.StatusNotFound)
		})
		t.Run(fmt.Sprint("Login", i), func(t *testing.T) {
			r := ts.Post(t, "/auth/login", "", map[string]string{"username": s, "password": s})
			wantStatus(t, r, http.StatusUnauthorized)
		})
	}
	u, err := ts.Store.UserByUsername(t.Context(), "alice")
	if err != nil || u.Role != blog.RoleAuthor {
		t.Fatalf("alice after injection attempts: %+v, %v", u, err)
	}
	page, _, err := ts.Store.ListPosts(t.Context(), blog.Page{Limit: 100})
	if err != nil || len(page) != len(evil) {
		t.Fatalf("%d posts, want %d", len(page), len(evil))
	}
}

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func TestPagination(t *testing.T) { apptest.ForEachStore(t, testPagination) }

func testPagination(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, map[string]string{"PALISADE_BASE_URL": "https://blog.example"})
	token := ts.SignUp(t, "alice")
	for i := range 45 {
		ts.createPost(t, token, fmt.Sprintf("Post number %d", i), "Some content for the post")
	}
	var all []blog.Post
	path := "/posts"
	for pages := 1; ; pages++ {
		// A Host the server answers (a loopback name, in development)
		// that is not the base URL's: links must still use the base URL.
		r := ts.Do(t, request{Method: http.MethodGet, Path: path, Header: map[string]string{"Host": "other.localhost"}})
		wantStatus(t, r, http.StatusOK)
		var page []blog.Post
		r.JSON(t, &page)
		all = append(all, page...)
		link := r.Header.Get("Link")
		if link == "" {
			if pages != 3 || len(page) != 5 {
				t.Fatalf("last page is page %d with %d posts", pages, len(page))
			}
			break
		}
		if len(page) != 20 {
			t.Fatalf("page %d has %d posts, want 20", pages, len(page))
		}
		m := linkNext.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("Link header %q", link)
		}
		u, _ := url.Parse(m[1])
		if u.Host != "blog.example" || u.Scheme != "https" {
			t.Fatalf("next link %q not on the configured origin (Host header must not be trusted)", m[1])
		}
		path = u.RequestURI()
	}
	if len(all) != 45 || all[0].Title != "Post number 44" || all[44].Title != "Post number 0" {
		t.Fatalf("feed has %d posts, first %q, last %q", len(all), all[0].Title, all[len(all)-1].Title)
	}
	t.Run("Limit", func(t *testing.T) {
		r := ts.Get(t, "/posts?limit=100", "")
		var page []blog.Post
		r.JSON(t, &page)
		if len(page) != 45 || r.Header.Get("Link") != "" {
			t.Fatalf("limit=100 gave %d posts, Link %q", len(page), r.Header.Get("Link"))
		}
	})
	t.Run("BadLimit", func(t *testing.T) {
		for _, l := range []string{"0", "101", "-1", "abc", "1e3", "20.5"} {
			r := ts.Get(t, "/posts?limit="+l, "")
			wantStatus(t, r, http.StatusBadRequest)
			var b struct{ Errors []blog.FieldError }
			r.JSON(t, &b)
			if len(b.Errors) != 1 || b.Errors[0].Location != "query" || b.Errors[0].Path != "limit" {
				t.Fatalf("limit=%s: %s", l, r.Body)
			}
		}
	})
	t.Run("EmptyFeedIsArray", func(t *testing.T) {
		r := newServer(t, nil).Get(t, "/posts", "")
		if strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("empty feed = %s, want []", r.Body)
		}
	})
}
