package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestStrictBodies: every malformed body is refused with a clear 4xx and
// stores nothing.
func TestStrictBodies(t *testing.T) { apptest.ForEachStore(t, testStrictBodies) }

func testStrictBodies(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	token := ts.SignUp(t, "alice")
	huge := `{"title":"Big","content":"` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name, contentType, body string
		status                  int
		field                   string // for validation errors
	}{
		{"OperatorObject", "application/json", `{"title":{"$gt":""},"content":"Long enough content"}`, 400, "title"},
		{"OperatorInContent", "application/json", `{"title":"Title","content":{"$ne":null}}`, 400, "content"},
		{"NumberForString", "application/json", `{"title":12345,"content":"Long enough content"}`, 400, "title"},
		{"ArrayForString", "application/json", `{"title":["a","b","c"],"content":"Long enough content"}`, 400, "title"},
		{"UnknownField", "application/json", `{"title":"Title","content":"Long enough content","$where":"1"}`, 400, "$where"},
		{"DifferentlyCasedKey", "application/json", `{"TITLE":"Title","content":"Long enough content"}`, 400, "TITLE"},
		{"DuplicateKey", "application/json", `{"title":"Title","content":"Long enough content","title":"Other title"}`, 400, "title"},
		{"NullBody", "application/json", `null`, 400, ""},
		{"TrailingObject", "application/json", `{"title":"Title","content":"Long enough content"}{"title":"x"}`, 400, ""},
		{"TrailingGarbage", "application/json", `{"title":"Title","content":"Long enough content"} x`, 400, ""},
		{"Malformed", "application/json", `{"title":"Title",`, 400, ""},
		{"NotAnObject", "application/json", `["Title","Long enough content"]`, 400, ""},
		{"Empty", "application/json", ``, 400, ""},
		{"TooLarge", "application/json", huge, 413, ""},
		{"WrongContentType", "text/plain", `{"title":"Title","content":"Long enough content"}`, 415, ""},
		{"FormEncoded", "application/x-www-form-urlencoded", `title=Title&content=Long+enough+content`, 415, ""},
		{"NoContentType", "", `{"title":"Title","content":"Long enough content"}`, 415, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.Do(t, request{Method: http.MethodPost, Path: "/posts", Token: token, Body: tt.body,
				Header: map[string]string{"Content-Type": tt.contentType}})
			wantStatus(t, r, tt.status)
			if tt.field != "" {
				var b struct{ Errors []blog.FieldError }
				r.JSON(t, &b)
				if len(b.Errors) != 1 || b.Errors[0].Path != tt.field {
					t.Fatalf("errors = %s", r.Body)
				}
			} else {
				var b struct{ Error, Message string }
				r.JSON(t, &b)
				if b.Error == "" || b.Message == "" {
					t.Fatalf("error body %s lacks error and message", r.Body)
				}
			}
			if strings.Contains(string(r.Body), "json:") || strings.Contains(string(r.Body), "reflect") {
				t.Fatalf("decoder internals leaked: %s", r.Body)
			}
		})
	}
	t.Run("NothingStored", func(t *testing.T) {
		page, _, err := ts.Store.ListPosts(t.Context(), blog.Page{Limit: 10})
		if err != nil || len(page) != 0 {
			t.Fatalf("%d posts stored from bad bodies (%v)", len(page), err)
		}
	})
	t.Run("HonestWithCharset", func(t *testing.T) {
		r := ts.Do(t, request{Method: http.MethodPost, Path: "/posts", Token: token,
			Body:   `{"title":"Title","content":"Long enough content"}`,
			Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
		wantStatus(t, r, http.StatusCreated)
	})
	t.Run("LoginOperatorObject", func(t *testing.T) {
		// The classic NoSQL login bypass: {"password": {"$gt": ""}}.
		r := ts.Do(t, request{Method: http.MethodPost, Path: "/auth/login", Body: `{"username":"alice","password":{"$gt":""}}`})
		wantStatus(t, r, http.StatusBadRequest)
		r = ts.Do(t, request{Method: http.MethodPost, Path: "/auth/login", Body: `{"username":{"$ne":null},"password":"x"}`})
		wantStatus(t, r, http.StatusBadRequest)
	})
}

func TestUnknownRoutesAreJSON(t *testing.T) {
	ts := newServer(t, nil)
	r := ts.Get(t, "/wp-admin", "")
	wantStatus(t, r, http.StatusNotFound)
	if r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("404 content type %q", r.Header.Get("Content-Type"))
	}
	r = ts.Do(t, request{Method: http.MethodPut, Path: "/posts"})
	wantStatus(t, r, http.StatusMethodNotAllowed)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow = %q", allow)
	}
}
