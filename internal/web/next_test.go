package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

var nextField = regexp.MustCompile(`<input type="hidden" name="next" value="([^"]*)">`)

// formNextValue is the next the sign-in page carries in its form, or ""
// when it has no such field.
func formNextValue(t *testing.T, p *page) string {
	t.Helper()
	wantStatus(t, p, http.StatusOK)
	m := nextField.FindAllStringSubmatch(p.Text(), -1)
	switch len(m) {
	case 0:
		return ""
	case 1:
		return html.UnescapeString(m[0][1])
	}
	t.Fatalf("the sign-in form has %d next fields", len(m))
	return ""
}

// openRedirects are the usual open-redirect payloads, and the sign-in and
// registration pages themselves: none may be where sign-in sends anyone.
var openRedirects = []string{
	"//evil.example", "///evil.example", "////evil.example/", "/\\evil.example", "\\\\evil.example",
	"/\\/evil.example", "https://evil.example", "http:evil.example", "https:/evil.example",
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
	"evil.example", "@evil.example", "/@evil.example/../x", "/%2f%2fevil.example", "/%2F/evil.example",
	"/%5cevil.example", "/%5c%5cevil.example", "/\t/evil.example", "/\r\n/evil.example", "/ /evil.example",
	"/%09/evil.example", "/%0d%0aSet-Cookie:x=y", "/..//evil.example", "/%2e%2e/%2e%2e/evil.example",
	"/./evil.example", "/\u3031evil.example", "/\uff0fevil.example", "/%00", "/x#@evil.example",
	"/login", "/login/", "/login?next=//evil.example", "/register", "/register?x=1", "",
}

func TestSignInNext(t *testing.T) {
	srv := apptest.Start(t, nil)
	owner := newClient(t, srv)
	register(t, owner, "alice")
	id := write(t, owner, "A post to come back to", "Some content to read here.")
	signIn := func(t *testing.T, c *apptest.Client, next string) *page {
		t.Helper()
		return c.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}, "next": {next}})
	}

	t.Run("Honest", func(t *testing.T) {
		for _, next := range []string{"/post/" + id, "/write", "/post/" + id + "/edit", "/?cursor=abc&x=%41", "/u/alice/"} {
			c := newClient(t, srv)
			if got := formNextValue(t, c.Page(t, "/login?"+url.Values{"next": {next}}.Encode())); got != next {
				t.Errorf("the form for next=%q carries %q", next, got)
			}
			wantRedirect(t, signIn(t, c, next), next)
			// Signed in, the sign-in page sends them straight on.
			wantRedirect(t, c.Page(t, "/login?"+url.Values{"next": {next}}.Encode()), next)
		}
	})
	t.Run("OpenRedirectRefused", func(t *testing.T) {
		for _, next := range openRedirects {
			c := newClient(t, srv)
			if got := formNextValue(t, c.Page(t, "/login?"+url.Values{"next": {next}}.Encode())); got != "" {
				t.Errorf("the form for next=%q carries %q", next, got)
			}
			// The field is the client's to forge: the POST checks it again.
			wantRedirect(t, signIn(t, c, next), "/")
			wantRedirect(t, c.Page(t, "/login?"+url.Values{"next": {next}}.Encode()), "/")
		}
	})
	t.Run("KeptThroughAFailedSignIn", func(t *testing.T) {
		c := newClient(t, srv)
		p := c.Submit(t, "/login?next=%2Fwrite", "/login", url.Values{"username": {"alice"}, "password": {"not the right password"}, "next": {"/write"}})
		wantStatus(t, p, http.StatusUnauthorized)
		if got := nextField.FindStringSubmatch(p.Text()); got == nil || got[1] != "/write" {
			t.Errorf("the form shown again lost next: %v", got)
		}
		p = c.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {"not the right password"}, "next": {"//evil.example"}})
		wantStatus(t, p, http.StatusUnauthorized)
		if nextField.MatchString(p.Text()) {
			t.Error("the form shown again carries a refused next")
		}
	})
	t.Run("SignedInPagesSendNext", func(t *testing.T) {
		anon := newClient(t, srv)
		for _, tc := range []struct{ method, path, want string }{
			{"GET", "/write", "/login?next=%2Fwrite"},
			{"GET", "/write?draft=1", "/login?next=%2Fwrite%3Fdraft%3D1"},
			{"GET", "/post/" + id + "/edit", "/login?next=%2Fpost%2F" + id + "%2Fedit"},
			{"GET", "/post/" + id + "/delete", "/login?next=%2Fpost%2F" + id + "%2Fdelete"},
			// A form sent after the session ended comes back to the form
			// (or the confirmation) as a GET, never to the action.
			{"POST", "/write", "/login?next=%2Fwrite"},
			{"POST", "/post/" + id + "/edit", "/login?next=%2Fpost%2F" + id + "%2Fedit"},
			{"POST", "/post/" + id + "/delete", "/login?next=%2Fpost%2F" + id + "%2Fdelete"},
		} {
			var p *page
			if tc.method == "GET" {
				p = anon.Page(t, tc.path)
			} else {
				p = anon.Submit(t, "/login", tc.path, url.Values{"title": {"x"}, "content": {"y"}})
			}
			wantRedirect(t, p, tc.want)
		}
	})
	t.Run("Journey", func(t *testing.T) {
		c := newClient(t, srv)
		p := c.Page(t, "/post/"+id+"/edit")
		wantStatus(t, p, http.StatusSeeOther)
		loginPage := p.Header.Get("Location")
		wantRedirect(t, c.Submit(t, loginPage, "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}, "next": {formNextValue(t, c.Page(t, loginPage))}}), "/post/"+id+"/edit")
		wantStatus(t, c.Page(t, "/post/"+id+"/edit"), http.StatusOK)
	})
}
