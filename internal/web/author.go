package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/palisade-blog/palisade/internal/atom"
	"github.com/palisade-blog/palisade/internal/blog"
)

// authorFeedSize is how many posts an author's Atom feed holds: the newest
// published ones. Readers poll; they need what is new, not the archive.
const authorFeedSize = 20

type authorData struct {
	Username string
	Posts    []blog.Post
	Next     string
	// Own is true when the author is the visitor: then Drafts holds their
	// newest drafts (at most MaxPageLimit; MoreDrafts says there are more).
	Own        bool
	Drafts     []blog.Post
	MoreDrafts bool
}

// handleAuthor shows /u/{username}: the author's published posts, paged
// like the home page, and, to the author alone, their drafts.
func (d *Deps) handleAuthor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := d.pageFromQuery(w, r, blog.Page{Limit: blog.DefaultPageLimit})
		if !ok {
			return
		}
		author, ok := d.author(w, r)
		if !ok {
			return
		}
		page.AuthorID = author.ID
		posts, next, err := d.Store.ListPosts(r.Context(), page)
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		data := authorData{Username: author.Username, Posts: posts, Next: nextPageLink(authorPath(author.Username), next)}
		// Drafts only on the author's own page, and only with the first
		// page of posts: they are the author's desk, not an archive.
		if u := currentUser(r); u != nil && u.ID == author.ID && page.After == nil {
			data.Own = true
			drafts, more, err := d.Store.ListPosts(r.Context(), blog.Page{Limit: blog.MaxPageLimit, AuthorID: author.ID, Status: blog.StatusDraft})
			if err != nil {
				d.storeError(w, r, err)
				return
			}
			data.Drafts, data.MoreDrafts = drafts, more != nil
		}
		d.render(w, r, http.StatusOK, "author", data)
	})
}

// handleAuthorFeed serves /u/{username}/feed.xml: the author's newest
// published posts as an Atom feed, with an ETag and Last-Modified so that
// polling readers mostly get 304. Each author's feed is built at most once
// per feedTTL, keyed by the name as usernames compare (case-insensitively:
// "/u/Alice" and "/u/aLICE" are one entry, so spellings can't multiply the
// cache or its builds); the lookup is part of the build, so a reader's
// poll costs no store read at all.
func (d *Deps) handleAuthorFeed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("username")
		if !blog.ValidUsername(name) {
			d.WriteError(w, r, http.StatusNotFound, "There is no author with this name.")
			return
		}
		v, err := d.authorFeeds.get(blog.UsernameKey(name), func() ([]byte, time.Time, error) { return d.buildAuthorFeed(context.WithoutCancel(r.Context()), name) })
		if blog.ErrorCode(err) == blog.ENOTFOUND {
			d.WriteError(w, r, http.StatusNotFound, "There is no author with this name.")
			return
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		serveDoc(w, r, atom.ContentType, v)
	})
}

// buildAuthorFeed returns the feed document of the author called name and
// its last change, or ENOTFOUND if there is no such author.
func (d *Deps) buildAuthorFeed(ctx context.Context, name string) ([]byte, time.Time, error) {
	author, err := d.Store.UserByUsername(ctx, name)
	if err != nil {
		return nil, time.Time{}, err
	}
	site := d.siteSettings(ctx)
	posts, _, err := d.Store.ListPosts(ctx, blog.Page{Limit: authorFeedSize, AuthorID: author.ID})
	if err != nil {
		return nil, time.Time{}, err
	}
	page := d.origin() + authorPath(author.Username)
	f := &atom.Feed{
		Title:    author.Username + " · " + site.Title,
		Subtitle: site.Description,
		SiteURL:  page,
		FeedURL:  page + "/feed.xml",
		ID:       atom.TagURI(d.BaseURL.Hostname(), author.CreatedAt, "author/"+author.ID),
		Author:   &atom.Person{Name: author.Username, URI: page},
		// An author without posts still has a valid feed: it was
		// last updated when the account was made.
		Updated: author.CreatedAt,
		// The same entries as in the site's feed, so a reader of both
		// sees one entry per post.
		Entries: d.feedEntries(posts),
	}
	doc, err := atom.Marshal(f)
	if err != nil {
		return nil, time.Time{}, err
	}
	return doc, f.LastModified(), nil
}

// author looks up the {username} of the path. An unknown one gets the
// not-found page and ok false.
func (d *Deps) author(w http.ResponseWriter, r *http.Request) (u blog.User, ok bool) {
	u, err := d.Store.UserByUsername(r.Context(), r.PathValue("username"))
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		d.WriteError(w, r, http.StatusNotFound, "There is no author with this name.")
		return blog.User{}, false
	}
	if err != nil {
		d.storeError(w, r, err)
		return blog.User{}, false
	}
	return u, true
}

// authorPath is the path of the page of the author named username,
// spelled as the account spells the name (a link with other capitals
// still works).
func authorPath(username string) string { return "/u/" + url.PathEscape(username) }
