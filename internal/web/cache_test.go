package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestTokenPagesNotStored checks that no page carrying a CSRF token or
// setting a cookie can be kept by a browser's or a proxy's cache: a stored
// copy would hand one visitor's token (or cookie) to the next.
func TestTokenPagesNotStored(t *testing.T) {
	srv := apptest.Start(t, nil)
	wantNoStore := func(t *testing.T, what string, p *page) {
		t.Helper()
		if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store (Set-Cookie %q)", what, cc, p.Header.Values("Set-Cookie"))
		}
	}

	anon := newClient(t, srv)
	for _, path := range []string{"/login", "/register"} {
		p := anon.Page(t, path)
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Text(), `name="_csrf"`) {
			t.Fatalf("%s has no CSRF field", path)
		}
		wantNoStore(t, "anonymous "+path, p)
	}
	// A failed form comes back with a token too.
	p := anon.Submit(t, "/login", "/login", url.Values{"username": {"nobody"}, "password": {"wrong password here"}})
	wantStatus(t, p, http.StatusUnauthorized)
	wantNoStore(t, "failed sign-in", p)

	// The home page of a visitor who is not signed in has neither a token
	// nor a cookie: it stays cacheable.
	if cc := newClient(t, srv).Page(t, "/").Header.Get("Cache-Control"); cc == "no-store" {
		t.Errorf("anonymous home page: Cache-Control %q, want cacheable", cc)
	}

	b := newClient(t, srv)
	register(t, b, "alice")
	id := write(t, b, "Cache test", "A post to edit and delete.")
	for _, path := range []string{"/", "/write", "/post/" + id, "/post/" + id + "/edit", "/post/" + id + "/delete"} {
		p := b.Page(t, path)
		wantStatus(t, p, http.StatusOK)
		wantNoStore(t, "signed-in "+path, p)
	}
	// Signing in and out set the session cookie on a redirect.
	p = b.PostForm(t, "/logout", url.Values{"_csrf": {b.CSRFToken(t, "/write")}}, nil)
	wantRedirect(t, p, "/")
	wantNoStore(t, "sign-out redirect", p)
	p = b.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}})
	wantRedirect(t, p, "/")
	wantNoStore(t, "sign-in redirect", p)
}
