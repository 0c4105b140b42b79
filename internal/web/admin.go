package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/logging"
)

// The admin page, /admin: the accounts, the invites and the site
// settings. Every route is wrapped in d.admin, and every form on it posts
// to one of the actions below with the page's CSRF token. A change
// answers with a redirect back to the page and a one-time notice in the
// session (so a reload doesn't repeat it), or with the page again, its
// error shown where the change was asked for, and nothing stored.

// keyNotice is the session key of the notice the admin page shows once
// after a change.
const keyNotice = "notice"

// admin wraps an admin page: a visitor who is not signed in is sent to
// sign in; a signed-in one who is not an admin gets 403. loadUser has
// already ended the session of a disabled account, so a disabled admin
// never gets here signed in; the check below says so again, next to the
// role, rather than relying on that.
func (d *Deps) admin(next http.Handler) http.Handler {
	return d.signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := currentUser(r); u.Role != blog.RoleAdmin || u.Disabled {
			logging.Security(r.Context(), d.Log, "forbidden", slog.String("method", r.Method), slog.String("path", r.URL.Path))
			d.WriteError(w, r, http.StatusForbidden, "Only the site's admins may use this page.")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// inviteLifetime is one choice of the invite form's "Expires after".
type inviteLifetime struct {
	Value, Label string
	Lifetime     time.Duration
}

// inviteLifetimes are the choices the invite form offers.
var inviteLifetimes = []inviteLifetime{
	{"1d", "1 day", 24 * time.Hour},
	{"7d", "7 days", blog.DefaultInviteLifetime},
	{"30d", "30 days", blog.MaxInviteLifetime},
}

// adminData is the admin page: what is stored, and the errors and typed
// values of a form that was refused.
type adminData struct {
	Me       string // the admin's own user ID
	Users    []adminUser
	Invites  []adminInvite
	Settings blog.Settings // the settings form's values: as stored, or as typed if refused
	Notice   string

	UserErrors, InviteErrors, SettingsErrors []string

	InviteRole, InviteLifetime string // the invite form's choices
	Lifetimes                  []inviteLifetime
	TitleMax, DescriptionMax   int
}

type adminUser struct {
	ID, Username, Created string
	Role                  blog.Role
	Disabled              bool
}

type adminInvite struct {
	ID, Status, Created, Expires, CreatedBy, UsedBy string
	Role                                            blog.Role
}

// adminTime is how the admin page shows a moment: to the minute, in UTC
// as the command line does.
func adminTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04") + " UTC" }

func (d *Deps) handleAdmin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.adminPage(w, r, http.StatusOK, adminData{Notice: d.sessions.PopString(r.Context(), keyNotice)})
	})
}

// adminPage fills in the accounts, the invites and (unless data holds
// the typed values of a refused settings form) the settings as stored,
// and renders the page with status.
func (d *Deps) adminPage(w http.ResponseWriter, r *http.Request, status int, data adminData) {
	ctx := r.Context()
	if data.SettingsErrors == nil {
		settings, err := d.Store.Settings(ctx)
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		data.Settings = settings
	}
	users, err := d.Store.ListUsers(ctx)
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	invites, err := d.Store.ListInvites(ctx)
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Username
		data.Users = append(data.Users, adminUser{ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled, Created: adminTime(u.CreatedAt)})
	}
	name := func(id, none string) string {
		switch {
		case id == "":
			return none
		case names[id] != "":
			return names[id]
		}
		return "a deleted account"
	}
	now := blog.Now()
	for _, inv := range invites {
		data.Invites = append(data.Invites, adminInvite{
			ID: inv.ID, Role: inv.Role, Status: inv.Status(now),
			Created: adminTime(inv.CreatedAt), Expires: adminTime(inv.ExpiresAt),
			CreatedBy: name(inv.CreatedBy, "the command line"), UsedBy: name(inv.UsedBy, ""),
		})
	}
	data.Me = currentUser(r).ID
	if data.InviteRole == "" {
		data.InviteRole, data.InviteLifetime = string(blog.RoleAuthor), "7d"
	}
	data.Lifetimes = inviteLifetimes
	data.TitleMax, data.DescriptionMax = blog.SiteTitleMax, blog.SiteDescriptionMax
	d.render(w, r, status, "admin", data)
}

// adminDone records a change in the audit log, leaves notice for the
// admin page and sends the admin back to it (to the section at fragment).
func (d *Deps) adminDone(w http.ResponseWriter, r *http.Request, event, notice, fragment string, attrs ...slog.Attr) {
	logging.Audit(r.Context(), d.Log, event, attrs...)
	d.sessions.Put(r.Context(), keyNotice, notice)
	http.Redirect(w, r, "/admin#"+fragment, http.StatusSeeOther)
}

// userNotices are the actions the admin page offers on an account, by
// the last element of the form's path, with what the page says after
// one (following the username).
var userNotices = map[string]string{
	"disable": " is disabled and signed out everywhere.",
	"enable":  " may sign in again.",
	"promote": " is now an admin.",
	"demote":  " is now an author.",
}

func (d *Deps) handleUserAction() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, action := r.Context(), r.PathValue("action")
		notice, ok := userNotices[action]
		if !ok {
			d.WriteError(w, r, http.StatusNotFound, "There is no page at this address.")
			return
		}
		target, err := d.Store.UserByID(ctx, r.PathValue("id"))
		if blog.ErrorCode(err) == blog.ENOTFOUND {
			d.WriteError(w, r, http.StatusNotFound, "There is no such account. It may have been deleted.")
			return
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		switch action {
		case "disable":
			err = d.Store.DisableUser(ctx, target.ID)
		case "enable":
			err = d.Store.EnableUser(ctx, target.ID)
		case "promote":
			err = d.Store.SetRole(ctx, target.ID, blog.RoleAdmin)
		case "demote":
			err = d.Store.SetRole(ctx, target.ID, blog.RoleAuthor)
		}
		if blog.ErrorCode(err) == blog.ECONFLICT {
			// The last enabled admin: the store's own words say what to
			// do instead.
			d.adminPage(w, r, http.StatusConflict, adminData{UserErrors: []string{blog.ErrorMessage(err)}})
			return
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		event, attrs := "admin.user."+action, []slog.Attr{slog.String("target", target.ID)}
		if target.ID == currentUser(r).ID && (action == "disable" || action == "demote") {
			// Admins no more, they may not see the admin page.
			logging.Audit(ctx, d.Log, event, attrs...)
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		d.adminDone(w, r, event, target.Username+notice, "users", attrs...)
	})
}

func (d *Deps) handleCreateInvite() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role, choice := blog.Role(r.PostFormValue("role")), r.PostFormValue("expires")
		var lifetime time.Duration
		for _, l := range inviteLifetimes {
			if l.Value == choice {
				lifetime = l.Lifetime
			}
		}
		var problems []string
		if !role.Valid() {
			problems = append(problems, "Choose the new account's role: author or admin.")
		}
		if lifetime == 0 {
			problems = append(problems, "Choose how long the invite lasts: 1, 7 or 30 days.")
		}
		if problems != nil {
			d.adminPage(w, r, http.StatusBadRequest, adminData{InviteErrors: problems})
			return
		}
		token, hash := blog.NewInviteToken()
		inv, err := d.Store.CreateInvite(r.Context(), blog.NewInvite{TokenHash: hash, Role: role, CreatedBy: currentUser(r).ID, ExpiresAt: blog.Now().Add(lifetime)})
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		logging.Audit(r.Context(), d.Log, "invite.created", slog.String("invite", inv.ID), slog.String("role", string(inv.Role)))
		// The link is in this one response and nowhere else: the store
		// keeps only its hash, and the page is never cached (no-store, as
		// every signed-in page). Reloading it asks to post the form again,
		// which makes a new invite, not this one.
		link := d.BaseURL.JoinPath("register")
		link.RawQuery = url.Values{"invite": {token}}.Encode()
		d.render(w, r, http.StatusOK, "admin-invite", struct {
			Link, Expires string
			Role          blog.Role
		}{link.String(), adminTime(inv.ExpiresAt), inv.Role})
	})
}

func (d *Deps) handleRevokeInvite() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := d.Store.RevokeInvite(r.Context(), id)
		if blog.ErrorCode(err) == blog.ENOTFOUND {
			d.WriteError(w, r, http.StatusNotFound, "There is no such invite.")
			return
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		d.adminDone(w, r, "invite.revoked", "The invite is revoked: its link no longer works.", "invites", slog.String("invite", id))
	})
}

func (d *Deps) handleSettings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		typed := blog.Settings{Title: r.PostFormValue("title"), Description: r.PostFormValue("description")}
		s := typed
		err := s.Clean()
		if err == nil {
			err = d.Settings.Set(r.Context(), s)
		}
		var verr *blog.ValidationError
		if errors.As(err, &verr) {
			data := adminData{Settings: typed}
			for _, f := range verr.Fields {
				data.SettingsErrors = append(data.SettingsErrors, f.Msg)
			}
			d.adminPage(w, r, http.StatusBadRequest, data)
			return
		}
		if err != nil {
			d.storeError(w, r, err)
			return
		}
		d.adminDone(w, r, "site.settings.changed", "Site settings saved.", "settings")
	})
}
