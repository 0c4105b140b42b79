package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

type homeData struct {
	Posts []blog.Post
	Next  string
}

func (d *Deps) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery) // strict, unlike r.URL.Query()
		if err != nil {
			d.WriteError(w, r, http.StatusBadRequest, "That address is malformed.")
			return
		}
		page := blog.Page{Limit: blog.DefaultPageLimit}
		if s := q.Get("cursor"); s != "" {
			c, err := blog.ParseCursor(s)
			if err != nil {
				d.WriteError(w, r, http.StatusBadRequest, "That page link is not valid.")
				return
			}
			page.After = c
		}
		posts, next, err := d.Store.ListPosts(r.Context(), page)
		if err != nil {
			d.internalError(w, r, err)
			return
		}
		data := homeData{Posts: posts}
		if next != nil {
			data.Next = "/?" + url.Values{"cursor": {next.Encode()}}.Encode()
		}
		d.render(w, r, http.StatusOK, "home", data)
	})
}

type postData struct {
	Post    blog.Post
	CanEdit bool
}

func (d *Deps) handlePost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := d.Store.PostByID(r.Context(), r.PathValue("id"))
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
	PostID   string
	Errors   []string
}

func (d *Deps) handleRegisterForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		d.render(w, r, http.StatusOK, "register", formData{})
	})
}

func (d *Deps) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg := blog.Registration{Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}
		u, err := d.Accounts.Register(r.Context(), reg)
		if err != nil {
			d.formError(w, r, "register", formData{Username: reg.Username}, err)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

func (d *Deps) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		d.render(w, r, http.StatusOK, "login", formData{})
	})
}

func (d *Deps) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr := blog.Credentials{Username: r.PostFormValue("username"), Password: r.PostFormValue("password")}
		u, err := d.Accounts.SignIn(r.Context(), httpsec.RateKey(d.ClientIP.Addr(r)), cr)
		if err != nil {
			d.formError(w, r, "login", formData{Username: cr.Username}, err)
			return
		}
		if err := d.startSession(r, u); err != nil {
			d.internalError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
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
		in := blog.PostInput{Title: r.PostFormValue("title"), Content: r.PostFormValue("content")}
		form := formData{Title: in.Title, Content: in.Content}
		if err := in.Clean(); err != nil {
			d.formError(w, r, "write", form, err)
			return
		}
		html, err := d.Markdown.Render(in.Content)
		if err != nil {
			d.formError(w, r, "write", form, err) // a rendering limit is a 400
			return
		}
		p, err := d.Store.CreatePost(r.Context(), blog.NewPost{AuthorID: currentUser(r).ID, Title: in.Title, Content: in.Content, ContentHTML: html})
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
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		if !currentUser(r).CanEdit(p) {
			d.forbidden(w, r)
			return
		}
		d.render(w, r, http.StatusOK, "write", formData{PostID: p.ID, Title: p.Title, Content: p.Content})
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
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		if !currentUser(r).CanEdit(current) {
			d.forbidden(w, r)
			return
		}
		title, content := r.PostFormValue("title"), r.PostFormValue("content")
		form := formData{PostID: id, Title: title, Content: content}
		patch := blog.PostPatch{Title: &title, Content: &content}
		if err := patch.Clean(); err != nil {
			d.formError(w, r, "write", form, err)
			return
		}
		html, err := d.Markdown.Render(*patch.Content)
		if err != nil {
			d.formError(w, r, "write", form, err) // a rendering limit is a 400
			return
		}
		_, err = d.Store.UpdatePost(r.Context(), *currentUser(r), id, blog.PostUpdate{Title: patch.Title, Content: patch.Content, ContentHTML: &html})
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
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		if !currentUser(r).CanEdit(p) {
			d.forbidden(w, r)
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
// sign-in is throttled, 503 when the server is busy.
func (d *Deps) formError(w http.ResponseWriter, r *http.Request, page string, form formData, err error) {
	var (
		verr      *blog.ValidationError
		throttled *account.ThrottledError
		status    int
	)
	switch {
	case errors.As(err, &verr):
		status = http.StatusBadRequest
		for _, f := range verr.Fields {
			form.Errors = append(form.Errors, f.Msg)
		}
	case errors.As(err, &throttled):
		status = http.StatusTooManyRequests
		minutes := int((throttled.RetryAfter + time.Minute - 1) / time.Minute)
		w.Header().Set("Retry-After", fmt.Sprint(max(1, int(throttled.RetryAfter.Seconds()))))
		form.Errors = []string{fmt.Sprintf("Too many sign-in attempts. Please try again in %d minute(s).", max(1, minutes))}
	case errors.Is(err, auth.ErrBusy) || blog.ErrorCode(err) == blog.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
		form.Errors = []string{"The server is busy. Please try again in a moment."}
	case blog.ErrorCode(err) == blog.EUNAUTHORIZED || blog.ErrorCode(err) == blog.ECONFLICT:
		status = http.StatusUnauthorized
		if blog.ErrorCode(err) == blog.ECONFLICT {
			status = http.StatusConflict
		}
		form.Errors = []string{blog.ErrorMessage(err)}
	default:
		d.storeError(w, r, err)
		return
	}
	d.render(w, r, status, page, form)
}

// storeError shows the page for a store error: 404, 403, 503 or 507 (the
// disk is full), or a logged 500.
func (d *Deps) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch blog.ErrorCode(err) {
	case blog.ENOTFOUND:
		d.WriteError(w, r, http.StatusNotFound, "There is no such post. It may have been deleted.")
	case blog.EFORBIDDEN:
		d.forbidden(w, r)
	case blog.ENOSPACE:
		d.noSpace(w, r, err)
	case blog.EUNAVAILABLE:
		d.Log.WarnContext(r.Context(), "dependency unavailable", "requestId", httpsec.RequestIDFrom(r.Context()), "error", err)
		w.Header().Set("Retry-After", "1")
		d.WriteError(w, r, http.StatusServiceUnavailable, "The site is briefly unavailable. Please try again in a moment.")
	default:
		d.internalError(w, r, err)
	}
}

// noSpace answers 507 when a write failed because the disk is full:
// nothing was saved, and the visitor should come back later. The operator
// hears of it once a minute, not once per request.
func (d *Deps) noSpace(w http.ResponseWriter, r *http.Request, err error) {
	logging.NoSpace(r.Context(), d.Log, httpsec.RequestIDFrom(r.Context()), err)
	w.Header().Set("Retry-After", "60") // as the API's 507: freeing space takes an operator
	d.WriteError(w, r, http.StatusInsufficientStorage, "The site cannot save anything right now: its storage is full. Nothing was changed. Please try again later.")
}

func (d *Deps) forbidden(w http.ResponseWriter, r *http.Request) {
	logging.Security(r.Context(), d.Log, "forbidden", slog.String("method", r.Method), slog.String("path", r.URL.Path))
	d.WriteError(w, r, http.StatusForbidden, "You may only change your own posts.")
}
