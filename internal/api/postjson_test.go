package api

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

func testPost(i int) blog.Post {
	now := time.Date(2026, 11, 26, 12, 0, i, 0, time.UTC)
	return blog.Post{ID: fmt.Sprint("post-", i), Title: fmt.Sprint("Title ", i), Content: "Hello <b>" + fmt.Sprint(i),
		ContentHTML: "<p>Hello &lt;b&gt;</p>", Author: blog.Author{ID: "u1", Username: "alice"}, CreatedAt: now, UpdatedAt: now}
}

// The cached writer must send exactly what json.Marshal would, every time.
func TestEncodedPostsMatchMarshal(t *testing.T) {
	c := newEncodedPosts(encodedPostsBudget)
	posts := []blog.Post{testPost(1), testPost(2), testPost(3)}
	want, _ := json.Marshal(posts)
	for round := range 2 { // the second round is served from the cache
		w := httptest.NewRecorder()
		if err := c.writePosts(w, posts); err != nil {
			t.Fatal(err)
		}
		if got := w.Body.String(); got != string(want)+"\n" {
			t.Fatalf("round %d: body %q, want %q", round, got, want)
		}
		if w.Header().Get("Content-Length") != fmt.Sprint(len(want)+1) {
			t.Errorf("Content-Length = %s, want %d", w.Header().Get("Content-Length"), len(want)+1)
		}
	}
	w := httptest.NewRecorder()
	if err := c.writePosts(w, nil); err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != "[]\n" {
		t.Errorf("empty page = %q, want []", w.Body.String())
	}
}

// A post that changed in any field (an edit here, on another instance, in
// the same microsecond) is encoded afresh, never served from the cache.
func TestEncodedPostsNeverStale(t *testing.T) {
	c := newEncodedPosts(encodedPostsBudget)
	orig := testPost(1)
	if err := c.writePost(httptest.NewRecorder(), orig); err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(p *blog.Post){
		"title":         func(p *blog.Post) { p.Title = "Edited" },
		"content":       func(p *blog.Post) { p.Content = "Edited" },
		"html":          func(p *blog.Post) { p.ContentHTML = "<p>Edited</p>" },
		"author":        func(p *blog.Post) { p.Author.Username = "mallory" },
		"updated at":    func(p *blog.Post) { p.UpdatedAt = p.UpdatedAt.Add(time.Microsecond) },
		"time location": func(p *blog.Post) { p.CreatedAt = p.CreatedAt.In(time.FixedZone("X", 3600)) },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			p := orig
			change(&p)
			w := httptest.NewRecorder()
			if err := c.writePost(w, p); err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(p)
			if w.Body.String() != string(want)+"\n" {
				t.Errorf("body %q, want %q", w.Body.String(), want)
			}
			if err := c.writePost(httptest.NewRecorder(), orig); err != nil { // put the original back
				t.Fatal(err)
			}
		})
	}
}

// The cache stays within its budget however many posts pass through.
func TestEncodedPostsBounded(t *testing.T) {
	const budget = 64 << 10
	c := newEncodedPosts(budget)
	for i := range 5_000 {
		p := testPost(i)
		p.Content = strings.Repeat("x", 1000)
		if err := c.writePost(httptest.NewRecorder(), p); err != nil {
			t.Fatal(err)
		}
		if c.size > budget {
			t.Fatalf("after %d posts the cache holds %d bytes, over its %d budget", i+1, c.size, budget)
		}
	}
	if len(c.entries) == 0 {
		t.Error("the cache kept nothing")
	}
}

// A post JSON cannot encode is returned as an error before anything is
// written, so the caller can still answer a logged 500.
func TestWritePostsReturnsEncodeError(t *testing.T) {
	c := newEncodedPosts(encodedPostsBudget)
	bad := testPost(2)
	bad.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, write := range map[string]func(w *httptest.ResponseRecorder) error{
		"writePosts": func(w *httptest.ResponseRecorder) error { return c.writePosts(w, []blog.Post{testPost(1), bad}) },
		"writePost":  func(w *httptest.ResponseRecorder) error { return c.writePost(w, bad) },
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := write(w); err == nil {
				t.Fatal("no error for a year past 9999")
			}
			if w.Code != 200 || w.Body.Len() != 0 || len(w.Header()) != 0 {
				t.Fatalf("wrote %d %v %q before the caller could answer", w.Code, w.Header(), w.Body)
			}
		})
	}
}
