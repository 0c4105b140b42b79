// Package web is Palisade's website: server-rendered pages (html/template)
// for reading, writing and managing posts, with a server-side session
// behind an HttpOnly, SameSite=Strict cookie and CSRF protection on every
// form. It needs no JavaScript, and its Content-Security-Policy allows none,
// but for the one script that runs passkey ceremonies (static/passkey.js)
// on the pages that offer them.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/account"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/markdown"
	"github.com/palisade-blog/palisade/internal/sitesettings"
)

// Deps is everything the website's handlers use.
type Deps struct {
	Store    blog.Store
	Accounts *account.Service
	Markdown *markdown.Renderer
	// Settings are the site's title and description, on every page and
	// for the feeds; nil means a cache over Store.
	Settings *sitesettings.Cache
	// SessionStore keeps the sessions: the database's, or Redis's when
	// instances share one.
	SessionStore blog.SessionStore
	Log          *slog.Logger
	ClientIP     *httpsec.ClientIP
	BaseURL      *url.URL
	// CSRFKey signs the CSRF cookie of visitors who are not signed in
	// (PALISADE_SESSION_SECRET).
	CSRFKey []byte
	// Production makes cookies Secure and __Host- prefixed.
	Production bool
	// NotFound answers a client that wants no page (an API client) when
	// no page matches: the API's JSON 404, or its 405 with allow when the
	// path is a page's under another method. Browsers get the site's own
	// not-found page.
	NotFound func(w http.ResponseWriter, r *http.Request, allow []string)
	// FeedMaxAge is how long a feed, once built, is served before it is
	// built again; zero means feedTTL, negative never reuses one.
	FeedMaxAge time.Duration

	// Built by New.
	sessions *scs.SessionManager
	pages    *renderer
	cop      *http.CrossOriginProtection
	sitemap  *docCache // one document: the sitemap
	// The feeds, built at most once per feedTTL each: the site's, and
	// the authors' (keyed by the name in the path).
	siteFeed, authorFeeds *docCache
}

// Site is the website's handler. It also renders the error page that the
// server shows a browser for the responses it answers itself (rate
// limited, busy, a panic).
type Site struct {
	d *Deps
	h http.Handler
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// WriteError renders the error page with status and a message that is
// safe to show.
func (s *Site) WriteError(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.d.WriteError(w, r, status, message)
}

// New checks the dependencies, parses the templates (so a broken template
// stops start-up) and returns the website.
func New(d Deps) (*Site, error) {
	if len(d.CSRFKey) < 32 {
		return nil, errors.New("web: the CSRF key (PALISADE_SESSION_SECRET) must be at least 32 bytes")
	}
	if d.SessionStore == nil || d.NotFound == nil {
		return nil, errors.New("web: SessionStore and NotFound are required")
	}
	pages, err := newRenderer()
	if err != nil {
		return nil, err
	}
	d.pages = pages
	if d.Settings == nil && d.Store != nil {
		d.Settings = sitesettings.New(d.Store, d.Log)
	}
	d.sitemap = newDocCache(sitemapTTL, 1)
	if d.FeedMaxAge == 0 {
		d.FeedMaxAge = feedTTL
	}
	d.siteFeed = newDocCache(d.FeedMaxAge, 1)
	d.authorFeeds = newDocCache(d.FeedMaxAge, maxAuthorFeeds)
	d.sessions = newSessions(d.SessionStore, d.Production)
	// A session store that fails (the database or Redis is down) is a
	// dependency outage: a retryable 503 page, the cause in the log.
	d.sessions.ErrorFunc = d.sessionFailed
	d.cop = http.NewCrossOriginProtection()
	// Browsers send the public origin; behind a proxy that rewrites Host,
	// the Origin check must still accept it.
	if err := d.cop.AddTrustedOrigin(d.BaseURL.Scheme + "://" + d.BaseURL.Host); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	d.routes(mux)
	mux.Handle("/", d.unrouted(mux))
	return &Site{d: &d, h: mux}, nil
}

// siteSettings are the site's title and description as pages and feeds
// show them: cached, so they cost no query on most requests (see
// sitesettings.MaxAge for how soon another instance's change shows).
func (d *Deps) siteSettings(ctx context.Context) blog.Settings {
	if d.Settings == nil {
		return blog.DefaultSettings() // a test's site without a store
	}
	return d.Settings.Get(ctx)
}

// sessionFailed answers a request whose session could not be loaded or
// saved.
func (d *Deps) sessionFailed(w http.ResponseWriter, r *http.Request, err error) {
	if blog.ErrorCode(err) == blog.ENOSPACE {
		// Saving the session (signing in) needs disk space too.
		d.noSpace(w, r, err)
		return
	}
	d.Log.WarnContext(r.Context(), "session store unavailable", "requestId", httpsec.RequestIDFrom(r.Context()), "error", err)
	w.Header().Set("Retry-After", "1")
	err = d.pages.render(w, http.StatusServiceUnavailable, "error", &view{
		RequestID: httpsec.RequestIDFrom(r.Context()),
		Site:      d.siteSettings(r.Context()),
		Data:      errorData{Title: "Service Unavailable", Message: "The site is briefly unavailable. Please try again in a moment."},
	})
	if err != nil {
		d.renderFailed(r, "error", err)
	}
}
