package web

import (
	"net/http"
	"net/url"

	"github.com/palisade-blog/palisade/internal/blog"
)

type homeData struct {
	Posts []blog.Post
	Next  string
}

func (d *Deps) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := d.pageFromQuery(w, r, blog.Page{Limit: blog.DefaultPageLimit})
		if !ok {
			return
		}
		posts, next, err := d.Store.ListPosts(r.Context(), page)
		if err != nil {
			d.internalError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "home", homeData{Posts: posts, Next: nextPageLink("/", next)})
	})
}

// pageFromQuery returns page starting after the ?cursor= of the request,
// for the paged lists (the home page, author pages). A malformed address
// or cursor gets a 400 page and ok false.
func (d *Deps) pageFromQuery(w http.ResponseWriter, r *http.Request, page blog.Page) (_ blog.Page, ok bool) {
	q, err := url.ParseQuery(r.URL.RawQuery) // strict, unlike r.URL.Query()
	if err != nil {
		d.WriteError(w, r, http.StatusBadRequest, "That address is malformed.")
		return page, false
	}
	if s := q.Get("cursor"); s != "" {
		c, err := blog.ParseCursor(s)
		if err != nil {
			d.WriteError(w, r, http.StatusBadRequest, "That page link is not valid.")
			return page, false
		}
		page.After = c
	}
	return page, true
}

// nextPageLink is the "Older posts" link of a paged list at path: empty
// when next is nil (the last page).
func nextPageLink(path string, next *blog.Cursor) string {
	if next == nil {
		return ""
	}
	return path + "?" + url.Values{"cursor": {next.Encode()}}.Encode()
}

type postData struct {
	Post    blog.Post
	CanEdit bool
}

func (d *Deps) handlePost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.Store.PostByID(r.Context(), r.PathValue("id"))
		if err == nil {
			// Someone else's draft is "no such post", as on the API.
			err = blog.CheckCanRead(currentUser(r), p)
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		u := currentUser(r)
		d.render(w, r, http.StatusOK, "post", postData{Post: p, CanEdit: u != nil && u.CanEdit(p)})
	})
}

// formData is a sign-in, registration or post form: what was typed (never
// the password) and what was wrong with it.
type formData struct {
	Username string
	Title    string
	Content  string
	Status   blog.PostStatus // the editor's draft/published choice
	PostID   string
	Invite   string // the invite link's token, carried by the registration form
	// Next is the page to return to after sign-in, already checked by
	// returnPath ("" for none).
	Next   string
	Errors []string
}

func (d *Deps) handleWriteForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.render(w, r, http.StatusOK, "write", formData{})
	})
}

func (d *Deps) handleWrite() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := blog.PostInput{Title: r.PostFormValue("title"), Content: r.PostFormValue("content"), Status: blog.PostStatus(r.PostFormValue("status"))}
		form := formData{Title: in.Title, Content: in.Content, Status: in.Status}
		if err := in.Clean(); err != nil {
			d.formError(w, r, "write", form, err)
			return
		}
		html, err := d.Markdown.Render(in.Content)
		if err != nil {
			d.formError(w, r, "write", form, err) // a rendering limit is a 400
			return
		}
		p, err := d.Store.CreatePost(r.Context(), blog.NewPost{AuthorID: currentUser(r).ID, Title: in.Title, Content: in.Content, ContentHTML: html, Status: in.Status})
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		http.Redirect(w, r, "/post/"+p.ID, http.StatusSeeOther)
	})
}

func (d *Deps) handleEditForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.Store.PostByID(r.Context(), r.PathValue("id"))
		if err == nil {
			err = blog.CheckCanEdit(*currentUser(r), p) // 403, or 404 for someone else's draft
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "write", formData{PostID: p.ID, Title: p.Title, Content: p.Content, Status: p.Status})
	})
}

func (d *Deps) handleEdit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		// Existence and permission before validating or rendering the
		// content: a refused edit costs one read, not a render. The store
		// checks authorship again in the same transaction as the update;
		// a refusal there also comes back as EFORBIDDEN.
		current, err := d.Store.PostByID(r.Context(), id)
		if err == nil {
			err = blog.CheckCanEdit(*currentUser(r), current) // 403, or 404 for someone else's draft
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		title, content := r.PostFormValue("title"), r.PostFormValue("content")
		form := formData{PostID: id, Title: title, Content: content, Status: current.Status}
		patch := blog.PostPatch{Title: &title, Content: &content}
		// The editor always sends a status; a form without one (an older
		// page still open) leaves it as it is.
		if s := blog.PostStatus(r.PostFormValue("status")); s != "" {
			patch.Status, form.Status = &s, s
		}
		if err := patch.Clean(); err != nil {
			d.formError(w, r, "write", form, err)
			return
		}
		html, err := d.Markdown.Render(*patch.Content)
		if err != nil {
			d.formError(w, r, "write", form, err) // a rendering limit is a 400
			return
		}
		_, err = d.Store.UpdatePost(r.Context(), *currentUser(r), id, blog.PostUpdate{Title: patch.Title, Content: patch.Content, ContentHTML: &html, Status: patch.Status})
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		http.Redirect(w, r, "/post/"+id, http.StatusSeeOther)
	})
}

// handleDeleteForm asks for confirmation: deleting is one POST, and a
// stray click or Enter should not be enough.
func (d *Deps) handleDeleteForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.Store.PostByID(r.Context(), r.PathValue("id"))
		if err == nil {
			err = blog.CheckCanEdit(*currentUser(r), p) // 403, or 404 for someone else's draft
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "delete", postData{Post: p, CanEdit: true})
	})
}

func (d *Deps) handleDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := d.Store.DeletePost(r.Context(), *currentUser(r), r.PathValue("id")); err != nil {
			d.storeError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}
