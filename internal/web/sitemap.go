package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/sitemap"
)

// sitemapTTL is how long one instance reuses the sitemap it built. Listing
// every post takes up to MaxURLs/MaxPageLimit reads of whole posts: without
// reuse, any visitor could have the database read end to end once per
// request. Crawlers read a sitemap every few hours, so a minute late is
// nothing to them.
const sitemapTTL = time.Minute

// handleSitemap serves sitemap.xml: the home page, the published posts,
// newest first, and the pages of their authors, at most sitemap.MaxURLs
// URLs in all, built at most once per sitemapTTL.
func (d *Deps) handleSitemap() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := d.sitemap.get("", func() ([]byte, time.Time, error) { return d.buildSitemap(context.WithoutCancel(r.Context())) })
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		serveDoc(w, r, sitemap.ContentType, v)
	})
}

// buildSitemap lists the posts page by page, with the page of each
// listed post's author: an author appears once they have a published
// post, and the newest change among their listed posts dates their page.
// A post whose author would not fit is left out with the rest, so every
// author of a listed post is listed. It returns the sitemap and its last
// change.
func (d *Deps) buildSitemap(ctx context.Context) ([]byte, time.Time, error) {
	origin := d.origin()
	urls := []sitemap.URL{{Loc: origin + "/"}}
	var (
		authors  []sitemap.URL
		authorAt = map[string]int{} // author ID → index in authors
		newest   time.Time
		full     bool
	)
	page := blog.Page{Limit: blog.MaxPageLimit}
	for !full && len(urls)+len(authors) < sitemap.MaxURLs {
		posts, next, err := d.Store.ListPosts(ctx, page)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, p := range posts {
			i, known := authorAt[p.Author.ID]
			need := 1
			if !known {
				need = 2
			}
			if len(urls)+len(authors)+need > sitemap.MaxURLs {
				full = true
				break
			}
			urls = append(urls, sitemap.URL{Loc: origin + "/post/" + url.PathEscape(p.ID), LastMod: p.UpdatedAt})
			if !known {
				i = len(authors)
				authorAt[p.Author.ID] = i
				authors = append(authors, sitemap.URL{Loc: origin + authorPath(p.Author.Username)})
			}
			if p.UpdatedAt.After(authors[i].LastMod) {
				authors[i].LastMod = p.UpdatedAt
			}
			if p.UpdatedAt.After(newest) {
				newest = p.UpdatedAt
			}
		}
		if next == nil {
			break
		}
		page.After = next
	}
	// The home page changes when a post is written or edited: the newest
	// change among the posts listed is the best date known.
	urls[0].LastMod = newest
	urls = append(urls, authors...)
	doc, err := sitemap.Marshal(origin, urls)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sitemap: %w", err)
	}
	return doc, newest, nil
}

// handleRobots serves robots.txt: crawlers may read everything but the
// forms and private pages, and the sitemap is at /sitemap.xml.
func (d *Deps) handleRobots() http.Handler {
	body := []byte(sitemap.Robots(d.origin()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
