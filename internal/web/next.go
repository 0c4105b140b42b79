package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/palisade-blog/palisade/httpsec"
)

// returnPath is where a visitor goes after signing in: next, the page
// that sent them to sign in, if httpsec.SafeNext accepts it as a path on
// this site, else "/". The sign-in and registration pages themselves are
// refused too: a signed-in visitor sent there is only sent on to "/".
func returnPath(next string) string {
	p, ok := httpsec.SafeNext(next)
	if !ok {
		return "/"
	}
	switch path, _, _ := strings.Cut(p, "?"); strings.TrimSuffix(path, "/") {
	case "/login", "/register":
		return "/"
	}
	return p
}

// signInURL is the sign-in page, with next set to the page r asked for
// when that is a page to come back to. A form's POST comes back to its
// address as a GET: the form again (write, edit) or the confirmation
// (delete), never the action itself; an admin action comes back to the
// admin page.
func signInURL(r *http.Request) string {
	here := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		here = r.URL.RequestURI()
	case strings.HasPrefix(here, "/admin/"):
		// The admin page's actions have no page of their own.
		here = "/admin"
	}
	if returnPath(here) == "/" {
		return "/login"
	}
	return "/login?" + url.Values{"next": {here}}.Encode()
}

// formNext is the next a sign-in form carries on in its hidden field:
// next if it is a path to return to, else "" (and the field is left out).
func formNext(next string) string {
	if p := returnPath(next); p != "/" {
		return p
	}
	return ""
}
