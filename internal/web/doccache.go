package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// docCache keeps documents that are the same for every visitor and cost
// store reads to build (the sitemap, the feeds) for a short time, so that a
// flood of anonymous requests costs one build per period, not one each. A
// build happens under its entry's own lock: a burst of requests for one
// document waits for that one build, while other documents are served.
// It holds at most max documents; a new one pushes out the oldest.
type docCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]*cachedDoc
}

// cachedDoc is one document and its validators.
type cachedDoc struct {
	mu      sync.Mutex // held while the document is built
	built   time.Time  // zero: nothing built yet
	doc     []byte
	etag    string
	modTime time.Time
}

// docVersion is a built document as served: its bytes, strong ETag (a
// hash of the bytes) and Last-Modified time.
type docVersion struct {
	doc     []byte
	etag    string
	modTime time.Time
}

func newDocCache(ttl time.Duration, maxDocs int) *docCache {
	return &docCache{ttl: ttl, max: maxDocs, entries: make(map[string]*cachedDoc)}
}

// get returns the document under key, calling build when it was built
// more than ttl ago or never. A failed build is not kept: the next request
// tries again. Other requests may be waiting for this build, so build
// should not stop when its own client leaves (context.WithoutCancel).
func (c *docCache) get(key string, build func() (doc []byte, modTime time.Time, err error)) (docVersion, error) {
	e := c.entry(key)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.built.IsZero() || time.Since(e.built) > c.ttl {
		doc, modTime, err := build()
		if err != nil {
			if e.built.IsZero() {
				c.forget(key, e) // a name that does not exist takes no room
			}
			return docVersion{}, err
		}
		sum := sha256.Sum256(doc)
		e.doc, e.etag, e.modTime, e.built = doc, `"`+hex.EncodeToString(sum[:16])+`"`, modTime, time.Now()
	}
	return docVersion{doc: e.doc, etag: e.etag, modTime: e.modTime}, nil
}

// entry returns key's entry, making room for it if it is new: expired
// entries go first (they would be rebuilt anyway), then the oldest, so
// that at most c.max documents are held however many keys are asked for.
func (c *docCache) entry(key string) *cachedDoc {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		return e
	}
	if len(c.entries) >= c.max {
		c.evict()
	}
	// Still full only while every document held is being built at once;
	// then this one goes past the cap, and the next new key evicts again.
	e := &cachedDoc{}
	c.entries[key] = e
	return e
}

// forget removes key's entry if it is still e.
func (c *docCache) forget(key string, e *cachedDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[key] == e {
		delete(c.entries, key)
	}
}

// evict drops every expired entry or, if none is, the oldest. Entries
// being built are skipped: they are the newest, and reading their built
// time would race with the build. The caller holds c.mu.
func (c *docCache) evict() {
	var oldest string
	var oldestBuilt time.Time
	expired := false
	for k, e := range c.entries {
		if !e.mu.TryLock() {
			continue
		}
		built := e.built
		e.mu.Unlock()
		if time.Since(built) > c.ttl {
			delete(c.entries, k)
			expired = true
			continue
		}
		if oldest == "" || built.Before(oldestBuilt) {
			oldest, oldestBuilt = k, built
		}
	}
	if !expired && oldest != "" {
		delete(c.entries, oldest)
	}
}

// serveDoc answers r with v: 304 when the client's If-None-Match or
// If-Modified-Since matches, HEAD without a body, else the document.
func serveDoc(w http.ResponseWriter, r *http.Request, contentType string, v docVersion) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", v.etag)
	http.ServeContent(w, r, "", v.modTime, bytes.NewReader(v.doc))
}
