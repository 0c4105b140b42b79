package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkEncodePage is the JSON of one page of the feed: 20 posts of
// about 1.5 KB of Markdown and its HTML each.
func BenchmarkEncodePage(b *testing.B) {
	content := strings.Repeat("Some *Markdown* with a [link](https://example.com). ", 30)
	html := "<p>" + strings.Repeat("Some <em>Markdown</em> with a <a href=\"https://example.com\">link</a>. ", 30) + "</p>"
	now := time.Now().UTC()
	posts := make([]blog.Post, 20)
	for i := range posts {
		posts[i] = blog.Post{ID: blog.NewID(), Title: "A post title", Content: content, ContentHTML: html,
			Author: blog.Author{ID: blog.NewID(), Username: "alice"}, CreatedAt: now, UpdatedAt: now}
	}
	b.ReportAllocs()
	for b.Loop() {
		writeJSON(&nopWriter{h: http.Header{}}, http.StatusOK, posts)
	}
}
