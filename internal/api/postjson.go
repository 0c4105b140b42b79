package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
)

// encodedPostsBudget bounds the memory of the post encoding cache: about
// 1,500 posts of 2 KB of Markdown (each held as its fields plus its JSON).
const encodedPostsBudget = 16 << 20

// encodedPosts remembers the JSON of posts recently served. Escaping a
// page of posts (HTML-safe JSON of their Markdown and HTML) was half the
// CPU of GET /posts in BenchmarkApp; the same posts are served again and
// again.
//
// The store is still read on every request. An entry is used only when the
// post just read is identical, field by field, to the one it was encoded
// from, so an edit, a deletion or a change made by another instance can
// never be answered with an old encoding: at worst a changed post misses
// the cache and is encoded afresh.
type encodedPosts struct {
	mu      sync.Mutex
	entries map[string]*encodedPost
	size    int // bytes held, as counted by encodedPost.cost
	budget  int
}

type encodedPost struct {
	post blog.Post
	json []byte
}

// cost approximates the bytes an entry keeps alive: the post's strings
// (shared with nothing once the request ends) and its encoding.
func (e *encodedPost) cost() int {
	p := &e.post
	return len(e.json) + len(p.ID) + len(p.Title) + len(p.Content) + len(p.ContentHTML) +
		len(p.Author.ID) + len(p.Author.Username) + 128
}

func newEncodedPosts(budget int) *encodedPosts {
	return &encodedPosts{entries: make(map[string]*encodedPost), budget: budget}
}

// encode returns the JSON of each post, from the cache where the cached
// post is identical and freshly encoded otherwise.
func (c *encodedPosts) encode(posts []blog.Post) ([][]byte, error) {
	out := make([][]byte, len(posts))
	hits := make([]*encodedPost, len(posts))
	c.mu.Lock()
	for i := range posts {
		hits[i] = c.entries[posts[i].ID]
	}
	c.mu.Unlock()

	var fresh []*encodedPost
	for i := range posts {
		// == on the whole struct: every string equal and both timestamps
		// equal to the nanosecond and in the same location, so the JSON
		// would be byte-for-byte the same.
		if e := hits[i]; e != nil && e.post == posts[i] {
			out[i] = e.json
			continue
		}
		b, err := json.Marshal(posts[i])
		if err != nil {
			return nil, err
		}
		out[i] = b
		fresh = append(fresh, &encodedPost{post: posts[i], json: b})
	}
	if len(fresh) > 0 {
		c.store(fresh)
	}
	return out, nil
}

// store adds entries, evicting others at random (Go's map order) while the
// cache is over budget. Random eviction keeps no per-hit bookkeeping; the
// feed's first pages are read so often that they come straight back.
func (c *encodedPosts) store(fresh []*encodedPost) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range fresh {
		if old := c.entries[e.post.ID]; old != nil {
			c.size -= old.cost()
		}
		c.entries[e.post.ID] = e
		c.size += e.cost()
	}
	if c.size <= c.budget {
		return
	}
	for id, e := range c.entries {
		if c.size <= c.budget*3/4 {
			break
		}
		delete(c.entries, id)
		c.size -= e.cost()
	}
}

// writePosts writes posts as a JSON array (never null), assembled from
// their cached encodings in a pooled buffer and sent with one Write: each
// Write of a few KB would be a system call of its own. A post that cannot
// be encoded is returned before anything is written, for the caller's
// writeError to log with the request ID and answer 500.
func (c *encodedPosts) writePosts(w http.ResponseWriter, posts []blog.Post) error {
	parts, err := c.encode(posts)
	if err != nil {
		return err
	}
	writeEncodedPosts(w, parts)
	return nil
}

// writeEncodedPosts writes posts already encoded by encode as a JSON
// array, as writePosts does.
func writeEncodedPosts(w http.ResponseWriter, parts [][]byte) {
	buf := pageBuffers.Get().(*[]byte)
	b := append((*buf)[:0], '[')
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	b = append(b, "]\n"...)
	writeJSONHeaders(w, len(b))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // fails only if the client went away
	// Pages are up to 100 posts; a buffer grown past that by an unusual
	// one is left to the garbage collector rather than kept.
	if cap(b) <= maxPooledPage {
		*buf = b
		pageBuffers.Put(buf)
	}
}

const maxPooledPage = 1 << 20

var pageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 128<<10); return &b }}

// writePost writes one post as the whole response. An encoding error is
// returned before anything is written, as by writePosts.
func (c *encodedPosts) writePost(w http.ResponseWriter, p blog.Post) error {
	parts, err := c.encode([]blog.Post{p})
	if err != nil {
		return err
	}
	writeJSONHeaders(w, len(parts[0])+1)
	w.WriteHeader(http.StatusOK)
	// A failed write means the client went away: nobody is left to tell.
	_, _ = w.Write(parts[0])
	_, _ = w.Write(newline)
	return nil
}

// writeJSONHeaders sets the headers of every JSON response.
func writeJSONHeaders(w http.ResponseWriter, length int) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Security-Policy", httpsec.APICSP)
	h.Set("Content-Length", strconv.Itoa(length))
}
