package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/httperr"
	"github.com/palisade-blog/palisade/internal/logging"
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

func (d *Deps) handleRegisterForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery) // strict, unlike r.URL.Query()
		if err != nil {
			d.WriteError(w, r, http.StatusBadRequest, "That address is malformed.")
			return
		}
		// An invite link (/register?invite=…) carries its token into the
		// form as a hidden field. Without one, the policy may refuse at
		// once rather than after the form is filled in.
		invite := q.Get("invite")
		if err := d.Accounts.CheckRegistration(invite); err != nil {
			d.registrationRefused(w, r, err)
			return
		}
		d.render(w, r, http.StatusOK, "register", formData{Invite: invite})
	})
}

func (d *Deps) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg := blog.Registration{Username: r.PostFormValue("username"), Password: r.PostFormValue("password"), Invite: r.PostFormValue("invite")}
		u, err := d.Accounts.Register(r.Context(), reg)
		if blog.ErrorCode(err) == blog.EFORBIDDEN {
			d.registrationRefused(w, r, err)
			return
		}
		if err != nil {
			d.formError(w, r, "register", formData{Username: reg.Username, Invite: reg.Invite}, err)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// registrationRefused answers a registration the policy does not allow (or
// a bad invite) with a 403 page that says why, the account service's own
// words. Nothing was stored.
func (d *Deps) registrationRefused(w http.ResponseWriter, r *http.Request, err error) {
	if blog.ErrorCode(err) != blog.EFORBIDDEN {
		d.storeError(w, r, err)
		return
	}
	d.WriteError(w, r, http.StatusForbidden, blog.ErrorMessage(err)+".")
}

func (d *Deps) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := r.URL.Query().Get("next") // a malformed one just falls back to "/"
		if currentUser(r) != nil {
			http.Redirect(w, r, returnPath(next), http.StatusSeeOther)
			return
		}
		d.render(w, r, http.StatusOK, "login", formData{Next: formNext(next)})
	})
}

func (d *Deps) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr := blog.Credentials{Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}
		next := r.PostFormValue("next")
		u, err := d.Accounts.SignIn(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), cr)
		if err != nil {
			d.formError(w, r, "login", formData{Username: cr.Username, Next: formNext(next)}, err)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		// The field came from the client: checked again, never trusted
		// because the form page checked it.
		http.Redirect(w, r, returnPath(next), http.StatusSeeOther)
	})
}

// startSession signs u in: a new session ID (so an ID planted before
// sign-in is worthless: no fixation), the user and their token version,
// and a new CSRF secret.
func (d *Deps) startSession(r *http.Request, u blog.User) error {
	ctx := r.Context()
	if err := d.sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	d.sessions.Put(ctx, keyUserID, u.ID)
	d.sessions.Put(ctx, keyVersion, u.TokenVersion)
	d.sessions.Put(ctx, keyCSRF, httpsec.NewCSRFSecret())
	return nil
}

func (d *Deps) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Destroy deletes the session on the server and expires the
		// cookie: the old session ID is worthless even if it was copied.
		if err := d.sessions.Destroy(r.Context()); err != nil {
			d.internalError(w, r, err)
			return
		}
		logging.Audit(r.Context(), d.Log, "logout") // the user's own doing: INFO
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
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

// formError shows the form again with what went wrong: 400 for invalid
// fields, 401 for a failed sign-in, 409 for a taken username, 429 when
// sign-in is throttled, 503 when the server is busy. Anything else gets
// the error page.
func (d *Deps) formError(w http.ResponseWriter, r *http.Request, page string, form formData, err error) {
	var verr *blog.ValidationError
	a := httperr.From(err)
	switch {
	case errors.As(err, &verr):
		for _, f := range verr.Fields {
			form.Errors = append(form.Errors, f.Msg)
		}
	case a.Status == http.StatusTooManyRequests:
		minutes := (a.RetryAfter + 59) / 60
		form.Errors = []string{fmt.Sprintf("Too many sign-in attempts. Please try again in %d minute(s).", minutes)}
	case a.Status == http.StatusServiceUnavailable:
		form.Errors = []string{"The server is busy. Please try again in a moment."}
	case a.Status == http.StatusUnauthorized || a.Status == http.StatusConflict:
		form.Errors = []string{a.Message}
	default:
		d.storeError(w, r, err)
		return
	}
	a.SetRetryAfter(w.Header())
	d.render(w, r, a.Status, page, form)
}

// storeError shows the error page for err with the status and Retry-After
// httperr gives it, in the site's own words where it has them (a 404, 403,
// 503 or 507) and in the error's safe message otherwise. An internal error
// is logged and shown only as its request ID.
func (d *Deps) storeError(w http.ResponseWriter, r *http.Request, err error) {
	a := httperr.From(err)
	switch a.Status {
	case http.StatusInternalServerError:
		d.internalError(w, r, err)
		return
	case http.StatusForbidden:
		d.forbidden(w, r)
		return
	case http.StatusInsufficientStorage:
		// The operator hears of it once a minute, not once per request.
		logging.NoSpace(r.Context(), d.Log, httpsec.RequestIDFrom(r.Context()), err)
	}
	if blog.ErrorCode(err) == blog.EUNAVAILABLE {
		// A dependency is down: the operator needs the cause. (A busy
		// hasher, also a 503, is this instance's own load, not news.)
		d.Log.WarnContext(r.Context(), "dependency unavailable", "requestId", httpsec.RequestIDFrom(r.Context()), "error", err)
	}
	a.SetRetryAfter(w.Header())
	d.WriteError(w, r, a.Status, pageMessage(a))
}

// pageMessage is what the error page says for a: the site's own words for
// the errors a visitor meets, the error's safe message for the rest.
func pageMessage(a httperr.Answer) string {
	switch a.Status {
	case http.StatusNotFound:
		return "There is no such post. It may have been deleted."
	case http.StatusServiceUnavailable:
		return "The site is briefly unavailable. Please try again in a moment."
	case http.StatusInsufficientStorage:
		return "The site cannot save anything right now: its storage is full. Nothing was changed. Please try again later."
	}
	return a.Message
}

// noSpace answers 507 when a write failed because the disk is full
// (nothing was saved, and the visitor should come back later), as
// storeError does for any error with that code.
func (d *Deps) noSpace(w http.ResponseWriter, r *http.Request, err error) {
	d.storeError(w, r, err)
}

func (d *Deps) forbidden(w http.ResponseWriter, r *http.Request) {
	logging.Security(r.Context(), d.Log, "forbidden", slog.String("method", r.Method), slog.String("path", r.URL.Path))
	d.WriteError(w, r, http.StatusForbidden, "You may only change your own posts.")
}
