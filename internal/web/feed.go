package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/palisade-blog/palisade/internal/atom"
	"github.com/palisade-blog/palisade/internal/blog"
)

// FeedEntries is how many posts the site's feed carries: the newest, as
// many as the home page's first page.
const FeedEntries = blog.DefaultPageLimit

// feedContentBytes bounds the post content one feed document carries,
// counted as it is sent: escaped as XML text, which can make HTML up to
// six times longer. A post's HTML may reach markdown.MaxHTMLBytes (1 MiB),
// so twenty of them would make a feed of tens of megabytes that every
// reader downloads on each poll. Posts that do not fit in what is left
// carry feedTooLarge instead (their title and link stay). The rest of an
// entry (title, author, links) is bounded by the fields' own limits, a few
// kilobytes at most.
const feedContentBytes = 2 << 20

// feedTTL is how long one instance serves a feed it built before building
// it again. Readers poll every few minutes or hours, so a few seconds late
// is nothing to them; without it, every request, even one answered 304,
// read the newest posts and escaped and hashed megabytes, which let anyone
// make the server do that as fast as they could ask.
const feedTTL = 5 * time.Second

// maxAuthorFeeds is how many authors' feeds one instance keeps built at
// once: enough for the authors readers follow, few enough that asking for
// every author in turn cannot fill the memory.
const maxAuthorFeeds = 256

// feedTooLarge stands in for the content of a post that does not fit in
// the feed; the post itself is at its link.
const feedTooLarge = "<p><em>This post is too large to show in the feed. Open it on its own page.</em></p>\n"

// handleFeed serves the site's Atom feed: the newest published posts,
// with an ETag and Last-Modified so that a reader polling it mostly gets
// a 304. It needs no session: every reader gets the same document, built
// at most once per feedTTL.
func (d *Deps) handleFeed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := d.siteFeed.get("", func() ([]byte, time.Time, error) { return d.buildFeed(context.WithoutCancel(r.Context())) })
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		serveDoc(w, r, atom.ContentType, v)
	})
}

// buildFeed returns the site's feed document and its last change.
func (d *Deps) buildFeed(ctx context.Context) ([]byte, time.Time, error) {
	site := d.siteSettings(ctx)
	posts, _, err := d.Store.ListPosts(ctx, blog.Page{Limit: FeedEntries})
	if err != nil {
		return nil, time.Time{}, err
	}
	origin := d.origin()
	// The feed's ID is its URL (atom's default): a tag: URI needs a
	// day on which the site owned its host, which nothing records,
	// and the entries' IDs depend on the host anyway.
	f := &atom.Feed{
		Title:    site.Title,
		Subtitle: site.Description,
		SiteURL:  origin + "/",
		FeedURL:  origin + "/feed.xml",
		Entries:  d.feedEntries(posts),
	}
	doc, err := atom.Marshal(f)
	if err != nil {
		return nil, time.Time{}, err
	}
	return doc, f.LastModified(), nil
}

// feedEntries turns posts, newest first, into feed entries within the
// feed's content budget. Every feed of the site (the author feeds too)
// builds its entries here, so that a post has the same ID and link in
// all of them.
func (d *Deps) feedEntries(posts []blog.Post) []atom.Entry {
	origin, host := d.origin(), d.BaseURL.Hostname()
	budget := feedContentBytes
	entries := make([]atom.Entry, 0, len(posts))
	for _, p := range posts {
		html := p.ContentHTML
		size := atom.ContentSize(html)
		if size > budget {
			html, size = feedTooLarge, atom.ContentSize(feedTooLarge)
		}
		budget -= size
		// Feeds list published posts only, which all have a publication
		// date; a post from before drafts existed has its creation date.
		published := p.PublishedAt.Time
		if published.IsZero() {
			published = p.CreatedAt
		}
		entries = append(entries, atom.Entry{
			// The post's creation day and ID never change, so neither
			// does its entry's ID, whatever edits follow.
			ID:          atom.TagURI(host, p.CreatedAt, "post/"+p.ID),
			Title:       p.Title,
			Author:      atom.Person{Name: p.Author.Username, URI: origin + "/u/" + url.PathEscape(p.Author.Username)},
			Published:   published,
			Updated:     p.UpdatedAt,
			Link:        origin + "/post/" + url.PathEscape(p.ID),
			ContentHTML: html,
		})
	}
	return entries
}

// origin is the site's public origin, such as "https://blog.example",
// from which every absolute link in a feed or sitemap is made.
func (d *Deps) origin() string {
	return d.BaseURL.Scheme + "://" + d.BaseURL.Host
}
