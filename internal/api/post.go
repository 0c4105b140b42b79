package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

func (d *Deps) handleListPosts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, page, ok := d.pageQuery(w, r)
		if !ok {
			return
		}
		// ?author= keeps one author's published posts. An unknown
		// username is a 404 (not an empty page), so a typo is told apart
		// from an author who has not published yet.
		var keep url.Values
		if name := q.Get("author"); name != "" {
			u, err := d.Store.UserByUsername(r.Context(), name)
			if blog.ErrorCode(err) == blog.ENOTFOUND {
				err = blog.ErrAuthorNotFound
			}
			if err != nil {
				d.writeError(w, r, err)
				return
			}
			page.AuthorID = u.ID
			keep = url.Values{"author": {u.Username}}
		}
		d.writePage(w, r, page, "/posts", keep)
	})
}

// handleMyPosts lists the caller's own posts: ?status=draft their drafts
// (which no other listing shows), published (the default) the rest.
func (d *Deps) handleMyPosts() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		q, page, ok := d.pageQuery(w, r)
		if !ok {
			return
		}
		switch s := blog.PostStatus(q.Get("status")); s {
		case "", blog.StatusPublished:
		case blog.StatusDraft:
			page.Status = s
		default:
			d.writeError(w, r, fieldError("query", "status", `Status must be "draft" or "published"`))
			return
		}
		page.AuthorID = who.user.ID
		var keep url.Values
		if page.Status == blog.StatusDraft {
			keep = url.Values{"status": {string(page.Status)}}
		}
		d.writePage(w, r, page, "/users/me/posts", keep)
	}
}

// pageQuery reads the query string of a listing: limit and cursor. On a
// bad one it answers 400 and returns ok false.
func (d *Deps) pageQuery(w http.ResponseWriter, r *http.Request) (q url.Values, page blog.Page, ok bool) {
	// url.ParseQuery, not r.URL.Query(): the latter drops what it can't
	// parse (a ';', more than 10,000 parameters) and would serve defaults
	// for a malformed request.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		d.writeError(w, r, &requestError{http.StatusBadRequest, "Query string is malformed"})
		return nil, page, false
	}
	page = blog.Page{Limit: blog.DefaultPageLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > blog.MaxPageLimit {
			d.writeError(w, r, fieldError("query", "limit", "Limit must be a whole number from 1 to 100"))
			return nil, page, false
		}
		page.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		c, err := blog.ParseCursor(s)
		if err != nil {
			d.writeError(w, r, fieldError("query", "cursor", "Invalid cursor"))
			return nil, page, false
		}
		page.After = c
	}
	return q, page, true
}

// writePage lists page and writes it, with a Link to the next page at
// path carrying the parameters in keep.
func (d *Deps) writePage(w http.ResponseWriter, r *http.Request, page blog.Page, path string, keep url.Values) {
	posts, next, err := d.Store.ListPosts(r.Context(), page)
	if err != nil {
		d.writeError(w, r, err)
		return
	}
	posts, cut := feedPage(posts)
	parts, err := d.encoded.encode(posts)
	if err != nil {
		d.writeError(w, r, fmt.Errorf("encode posts: %w", err))
		return
	}
	if n := fitEncoded(parts); n < len(parts) {
		parts, posts, cut = parts[:n], posts[:n], true
	}
	if cut {
		next = blog.CursorAfter(posts[len(posts)-1])
	}
	if next != nil {
		w.Header().Set("Link", "<"+d.nextURL(path, keep, page.Limit, next)+`>; rel="next"`)
	}
	writeEncodedPosts(w, parts)
}

// nextURL links to the following page on the configured public origin,
// never on the request's Host header, which a client controls.
func (d *Deps) nextURL(path string, keep url.Values, limit int, next *blog.Cursor) string {
	q := url.Values{"cursor": {next.Encode()}}
	for k, v := range keep {
		q[k] = v
	}
	if limit != blog.DefaultPageLimit {
		q.Set("limit", strconv.Itoa(limit))
	}
	u := *d.BaseURL
	u.Path, u.RawQuery = path, q.Encode()
	return u.String()
}

func (d *Deps) handleGetPost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.readablePost(r)
		if err != nil {
			// Every refusal is no-store, whatever its cause: if a draft's
			// 404 carried a header that a missing post's lacked, it would
			// tell that the draft exists.
			w.Header().Set("Cache-Control", "no-store")
			d.writeError(w, r, err)
			return
		}
		if p.IsDraft() {
			w.Header().Set("Cache-Control", "no-store") // one reader's, never a shared cache's
		}
		if err := d.encoded.writePost(w, p); err != nil {
			d.writeError(w, r, fmt.Errorf("encode post: %w", err))
		}
	})
}

// readablePost is the post at the request's path if the client may read
// it. Only a draft needs to know who asks: its author or an admin may
// read it, anyone else (no token, a bad one, another author) gets the
// ErrPostNotFound of a post that does not exist.
func (d *Deps) readablePost(r *http.Request) (blog.Post, error) {
	p, err := d.Store.PostByID(r.Context(), r.PathValue("id"))
	if err != nil || !p.IsDraft() {
		return p, err
	}
	who, reason, err := d.verify(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		return blog.Post{}, err
	}
	var viewer *blog.User
	// An account held by the second-factor policy reads as anyone does:
	// until it has a second factor, its password alone opens nothing more.
	if reason == "" && !d.Accounts.MustEnrol(who.user) {
		viewer = &who.user
		logging.SetUser(r.Context(), who.user.ID)
	}
	if err := blog.CheckCanRead(viewer, p); err != nil {
		return blog.Post{}, err
	}
	return p, nil
}

func (d *Deps) handleCreatePost() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		var in blog.PostInput
		if err := decode(w, r, &in); err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := in.Clean(); err != nil {
			d.writeError(w, r, err)
			return
		}
		html, err := d.Markdown.Render(in.Content)
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		p, err := d.Store.CreatePost(r.Context(), blog.NewPost{AuthorID: who.user.ID, Title: in.Title, Content: in.Content, ContentHTML: html, Status: in.Status})
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		u := *d.BaseURL
		u.Path = "/posts/" + p.ID
		w.Header().Set("Location", u.String())
		writeJSON(w, http.StatusCreated, map[string]any{"message": "Post created", "post": p})
	}
}

func (d *Deps) handleUpdatePost() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		var patch blog.PostPatch
		if err := decode(w, r, &patch); err != nil {
			d.writeError(w, r, err)
			return
		}
		// Existence and permission first: validating and rendering up to
		// 100,000 characters is the expensive part of an edit, and a
		// request for a missing post or someone else's must cost no more
		// than this read. The store checks again in the update's own
		// transaction, so an author change in between is still caught.
		// Someone else's draft is a 404 (CheckCanEdit), as on GET.
		id := r.PathValue("id")
		current, err := d.Store.PostByID(r.Context(), id)
		if err == nil {
			err = blog.CheckCanEdit(who.user, current)
		}
		if err != nil {
			d.refused(r, err)
			d.writeError(w, r, err)
			return
		}
		if err := patch.Clean(); err != nil {
			d.writeError(w, r, err)
			return
		}
		u := blog.PostUpdate{Title: patch.Title, Content: patch.Content, Status: patch.Status}
		if patch.Content != nil {
			html, err := d.Markdown.Render(*patch.Content)
			if err != nil {
				d.writeError(w, r, err)
				return
			}
			u.ContentHTML = &html
		}
		p, err := d.Store.UpdatePost(r.Context(), who.user, id, u)
		if err != nil {
			d.refused(r, err)
			d.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}
}

func (d *Deps) handleDeletePost() authedHandler {
	return func(w http.ResponseWriter, r *http.Request, who principal) {
		if err := d.Store.DeletePost(r.Context(), who.user, r.PathValue("id")); err != nil {
			d.refused(r, err)
			d.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// refused logs a forbidden attempt on someone else's post as a security
// event.
func (d *Deps) refused(r *http.Request, err error) {
	if blog.ErrorCode(err) == blog.EFORBIDDEN {
		logging.Security(r.Context(), d.Log, "forbidden", slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
}
