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
		// url.ParseQuery, not r.URL.Query(): the latter drops what it
		// can't parse (a ';', more than 10,000 parameters) and would serve
		// defaults for a malformed request.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			d.writeError(w, r, &requestError{http.StatusBadRequest, "Query string is malformed"})
			return
		}
		page := blog.Page{Limit: blog.DefaultPageLimit}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > blog.MaxPageLimit {
				d.writeError(w, r, fieldError("query", "limit", "Limit must be a whole number from 1 to 100"))
				return
			}
			page.Limit = n
		}
		if s := q.Get("cursor"); s != "" {
			c, err := blog.ParseCursor(s)
			if err != nil {
				d.writeError(w, r, fieldError("query", "cursor", "Invalid cursor"))
				return
			}
			page.After = c
		}
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
			w.Header().Set("Link", "<"+d.nextURL(page.Limit, next)+`>; rel="next"`)
		}
		writeEncodedPosts(w, parts)
	})
}

// nextURL links to the following page on the configured public origin,
// never on the request's Host header, which a client controls.
func (d *Deps) nextURL(limit int, next *blog.Cursor) string {
	q := url.Values{"cursor": {next.Encode()}}
	if limit != blog.DefaultPageLimit {
		q.Set("limit", strconv.Itoa(limit))
	}
	u := *d.BaseURL
	u.Path, u.RawQuery = "/posts", q.Encode()
	return u.String()
}

func (d *Deps) handleGetPost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.Store.PostByID(r.Context(), r.PathValue("id"))
		if err != nil {
			d.writeError(w, r, err)
			return
		}
		if err := d.encoded.writePost(w, p); err != nil {
			d.writeError(w, r, fmt.Errorf("encode post: %w", err))
		}
	})
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
		p, err := d.Store.CreatePost(r.Context(), blog.NewPost{AuthorID: who.user.ID, Title: in.Title, Content: in.Content, ContentHTML: html})
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
		u := blog.PostUpdate{Title: patch.Title, Content: patch.Content}
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
