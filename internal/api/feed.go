package api

import (
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/markdown"
)

// The feed's size is bounded whatever is in the database, including posts
// written before the rendering limits existed or written around the API.
const (
	// FeedPageBytes bounds the JSON of the posts of one GET /posts page:
	// posts are added while the page stays within it (the first always
	// is), and the Link header continues after the last one sent.
	FeedPageBytes = 2 << 20
	// feedMaxContent and feedMaxHTML are the largest content and
	// contentHtml a post written through the API can have: 100,000
	// characters of up to 4 bytes, and the renderer's bound.
	feedMaxContent = 4 * blog.ContentMax
	feedMaxHTML    = markdown.MaxHTMLBytes
)

// Oversized is what the feed shows instead of the body of a post larger
// than any the API accepts; the post itself is still at /posts/{id}.
const (
	oversizedContent = "*This post is too large to show in the feed. Open it on its own page.*"
	oversizedHTML    = "<p><em>This post is too large to show in the feed. Open it on its own page.</em></p>\n"
)

// feedPage bounds a page of the feed: each post larger than the API allows
// gets the oversized notice as its body, and the page ends once its posts
// reach FeedPageBytes. It returns the posts to send and whether some were
// left for the next page.
func feedPage(posts []blog.Post) (page []blog.Post, cut bool) {
	total := 0
	for i := range posts {
		p := &posts[i]
		if len(p.Content) > feedMaxContent || len(p.ContentHTML) > feedMaxHTML {
			p.Content, p.ContentHTML = oversizedContent, oversizedHTML
		}
		// The text before JSON escaping: a lower bound of what the post
		// will take on the page, so no post cut here would have fitted.
		total += len(p.ID) + len(p.Title) + len(p.Content) + len(p.ContentHTML) + len(p.Author.ID) + len(p.Author.Username)
		if i > 0 && total > FeedPageBytes {
			return posts[:i], true
		}
	}
	return posts, false
}

// fitEncoded returns how many of the encoded posts fit in FeedPageBytes
// (at least one).
func fitEncoded(parts [][]byte) int {
	total := 0
	for i, p := range parts {
		total += len(p) + 1
		if i > 0 && total > FeedPageBytes {
			return i
		}
	}
	return len(parts)
}
