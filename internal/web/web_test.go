package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// page is a response with its body read.
type page = apptest.Response

// newClient is a client that behaves like a person's browser: a cookie
// jar, no automatic redirects (so tests see each 303), page requests that
// accept HTML, and same-origin form posts.
func newClient(t *testing.T, srv *apptest.Server) *apptest.Client {
	t.Helper()
	return apptest.NewClient(t, srv.URL)
}

func register(t *testing.T, b *apptest.Client, username string) {
	t.Helper()
	p := b.Submit(t, "/register", "/register", url.Values{"username": {username}, "password": {apptest.Password}})
	wantRedirect(t, p, "/")
}

// write publishes a post and returns its ID.
func write(t *testing.T, b *apptest.Client, title, content string) string {
	t.Helper()
	p := b.Submit(t, "/write", "/write", url.Values{"title": {title}, "content": {content}})
	wantStatus(t, p, http.StatusSeeOther)
	id, ok := strings.CutPrefix(p.Header.Get("Location"), "/post/")
	if !ok {
		t.Fatalf("write redirected to %q", p.Header.Get("Location"))
	}
	return id
}

func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status = %d, want %d\n%s", p.Status, status, p.Text())
	}
}

func wantRedirect(t *testing.T, p *page, to string) {
	t.Helper()
	wantStatus(t, p, http.StatusSeeOther)
	if got := p.Header.Get("Location"); got != to {
		t.Fatalf("redirect to %q, want %q", got, to)
	}
}

func countPosts(t *testing.T, srv *apptest.Server) int {
	t.Helper()
	posts, _, err := srv.Store.ListPosts(t.Context(), blog.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(posts)
}

func TestHonestJourney(t *testing.T) { apptest.ForEachStore(t, testHonestJourney) }

func testHonestJourney(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newClient(t, srv)

	home := b.Page(t, "/")
	wantStatus(t, home, http.StatusOK)
	if !strings.Contains(home.Text(), "No posts yet") {
		t.Fatal("empty home page does not say so")
	}
	if b.Cookie("palisade_session") != nil {
		t.Fatal("reading the home page created a session")
	}

	register(t, b, "alice")
	if !strings.Contains(b.Page(t, "/").Text(), "Signed in as </span><strong>alice</strong>") {
		t.Fatal("not signed in after registering")
	}
	id := write(t, b, "Hello, world", "My **first** post.")

	t.Run("PostPage", func(t *testing.T) {
		p := b.Page(t, "/post/"+id)
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Text(), "<h1>Hello, world</h1>") || !strings.Contains(p.Text(), "<strong>first</strong>") {
			t.Fatalf("post page:\n%s", p.Text())
		}
	})
	t.Run("OnHomePage", func(t *testing.T) {
		if !strings.Contains(b.Page(t, "/").Text(), `href="/post/`+id+`"`) {
			t.Fatal("post not on the home page")
		}
	})
	t.Run("Edit", func(t *testing.T) {
		p := b.Submit(t, "/post/"+id+"/edit", "/post/"+id+"/edit", url.Values{"title": {"Hello again"}, "content": {"Edited content here."}})
		wantRedirect(t, p, "/post/"+id)
		got, err := srv.Store.PostByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Hello again" || got.Content != "Edited content here." {
			t.Fatalf("after edit: %+v", got)
		}
	})
	t.Run("InvalidFormShowsErrors", func(t *testing.T) {
		p := b.Submit(t, "/write", "/write", url.Values{"title": {"ab"}, "content": {"short"}})
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Text(), "Title too short") || !strings.Contains(p.Text(), "Content too short") || !strings.Contains(p.Text(), `value="ab"`) {
			t.Fatalf("form errors not shown:\n%s", p.Text())
		}
	})
	t.Run("Delete", func(t *testing.T) {
		confirm := b.Page(t, "/post/"+id+"/delete")
		wantStatus(t, confirm, http.StatusOK)
		if !strings.Contains(confirm.Text(), "Delete this post?") || countPosts(t, srv) != 1 {
			t.Fatal("the delete link must ask first, not delete")
		}
		token := b.CSRFToken(t, "/post/"+id+"/delete")
		wantRedirect(t, b.PostForm(t, "/post/"+id+"/delete", url.Values{"_csrf": {token}}, nil), "/")
		if countPosts(t, srv) != 0 {
			t.Fatal("post not deleted")
		}
	})
	t.Run("Logout", func(t *testing.T) {
		token := b.CSRFToken(t, "/write")
		wantRedirect(t, b.PostForm(t, "/logout", url.Values{"_csrf": {token}}, nil), "/")
		if strings.Contains(b.Page(t, "/").Text(), "Signed in as") {
			t.Fatal("still signed in after signing out")
		}
		wantRedirect(t, b.Page(t, "/write"), "/login?next=%2Fwrite")
	})
}

func TestPagedHomePage(t *testing.T) { apptest.ForEachStore(t, testPagedHomePage) }

func testPagedHomePage(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	for i := range 25 {
		write(t, b, "Post number "+string(rune('A'+i)), "Some content for the post")
	}
	first := b.Page(t, "/")
	m := regexp.MustCompile(`href="(/\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(first.Text())
	if m == nil || strings.Count(first.Text(), `<article>`) != 20 {
		t.Fatalf("first page: %d posts, next link %v", strings.Count(first.Text(), `<article>`), m)
	}
	second := b.Page(t, strings.ReplaceAll(m[1], "&amp;", "&"))
	if strings.Count(second.Text(), `<article>`) != 5 || strings.Contains(second.Text(), `rel="next"`) {
		t.Fatalf("second page has %d posts", strings.Count(second.Text(), `<article>`))
	}
	wantStatus(t, b.Page(t, "/?cursor=not-a-cursor"), http.StatusBadRequest)
}

// TestCSRF tries every form with a missing token, a wrong one, another
// session's, and a valid one sent cross-site or from a foreign origin.
// Each is refused with 403 "Invalid CSRF token" and changes nothing.
func TestCSRF(t *testing.T) { apptest.ForEachStore(t, testCSRF) }

func testCSRF(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	victim := newClient(t, srv)
	register(t, victim, "alice")
	postID := write(t, victim, "Alice's post", "Written by Alice alone.")
	other := newClient(t, srv)
	register(t, other, "mallory")
	otherToken := other.CSRFToken(t, "/write")
	validToken := victim.CSRFToken(t, "/write")

	forms := []struct {
		name, action string
		fields       url.Values
	}{
		{"Write", "/write", url.Values{"title": {"Forged post"}, "content": {"Posted by someone else"}}},
		{"Edit", "/post/" + postID + "/edit", url.Values{"title": {"Defaced"}, "content": {"Defaced content here"}}},
		{"Delete", "/post/" + postID + "/delete", url.Values{}},
		{"Logout", "/logout", url.Values{}},
		{"Login", "/login", url.Values{"username": {"mallory"}, "password": {apptest.Password}}},
		{"Register", "/register", url.Values{"username": {"forged_user"}, "password": {apptest.Password}}},
	}
	attacks := []struct {
		name    string
		token   string
		headers map[string]string
	}{
		{"NoToken", "", nil},
		{"WrongToken", "AAAA" + validToken[4:], nil},
		{"OtherSessionsToken", otherToken, nil},
		{"CrossSite", validToken, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"SameSiteNotSameOrigin", validToken, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://evil.127.0.0.1.nip.io"}},
		{"ForeignOrigin", validToken, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
	}
	for _, f := range forms {
		for _, a := range attacks {
			t.Run(f.name+"/"+a.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range f.fields {
					form[k] = v
				}
				if a.token != "" {
					form.Set("_csrf", a.token)
				}
				p := victim.PostForm(t, f.action, form, a.headers)
				wantStatus(t, p, http.StatusForbidden)
				if !strings.Contains(p.Text(), "Invalid CSRF token") {
					t.Fatalf("403 page does not say Invalid CSRF token:\n%s", p.Text())
				}
			})
		}
	}
	t.Run("NothingChanged", func(t *testing.T) {
		got, err := srv.Store.PostByID(t.Context(), postID)
		if err != nil || got.Title != "Alice's post" || countPosts(t, srv) != 1 {
			t.Fatalf("post after attacks: %+v %v, %d posts", got, err, countPosts(t, srv))
		}
		if _, err := srv.Store.UserByUsername(t.Context(), "forged_user"); blog.ErrorCode(err) != blog.ENOTFOUND {
			t.Fatal("forged registration stored a user")
		}
		if !strings.Contains(victim.Page(t, "/").Text(), "Signed in as </span><strong>alice</strong>") {
			t.Fatal("forged logout or login changed the victim's session")
		}
	})
	t.Run("ErrorPageKnowsWhoIsSignedIn", func(t *testing.T) {
		p := victim.PostForm(t, "/write", url.Values{"title": {"x"}}, nil)
		wantStatus(t, p, http.StatusForbidden)
		if !strings.Contains(p.Text(), "<strong>alice</strong>") {
			t.Fatal("the CSRF error page shows a signed-in user as signed out")
		}
	})
	t.Run("JSONClientGetsJSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/write", strings.NewReader("title=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		p := victim.Send(t, req)
		wantStatus(t, p, http.StatusForbidden)
		if strings.TrimSpace(p.Text()) != `{"error":"Invalid CSRF token"}` {
			t.Fatalf("body %q", p.Text())
		}
	})
	t.Run("HeaderTokenAccepted", func(t *testing.T) {
		p := victim.PostForm(t, "/write", url.Values{"title": {"Via header"}, "content": {"Token in X-CSRF-Token"}}, map[string]string{"X-CSRF-Token": victim.CSRFToken(t, "/write")})
		wantStatus(t, p, http.StatusSeeOther)
	})
	t.Run("Logged", func(t *testing.T) {
		if !strings.Contains(srv.Logs.String(), `"event":"csrf.rejected"`) {
			t.Fatal("CSRF rejections not logged")
		}
	})
}

func TestSessionCookie(t *testing.T) {
	// setCookies registers through the forms and returns the Set-Cookie
	// headers of the form page (the anonymous CSRF cookie) and of the
	// registration (the session cookie).
	setCookies := func(t *testing.T, srv *apptest.Server) (csrf, session string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/register")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		csrf = resp.Header.Get("Set-Cookie")
		token, ok := apptest.CSRFField(string(body))
		if !ok {
			t.Fatalf("no CSRF field on /register:\n%s", body)
		}
		form := url.Values{"username": {"alice"}, "password": {apptest.Password}, "_csrf": {token}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/register", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", strings.Split(csrf, ";")[0])
		resp, err = http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("register: %d", resp.StatusCode)
		}
		return csrf, resp.Header.Get("Set-Cookie")
	}
	check := func(t *testing.T, cookie string, want []string, secure bool) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(cookie, w) {
				t.Errorf("Set-Cookie %q lacks %s", cookie, w)
			}
		}
		if strings.Contains(cookie, "Secure") != secure || strings.Contains(cookie, "Domain") {
			t.Errorf("Set-Cookie %q: Secure should be %v, and no Domain", cookie, secure)
		}
	}
	t.Run("Development", func(t *testing.T) {
		csrf, session := setCookies(t, apptest.Start(t, nil))
		check(t, session, []string{"palisade_session=", "HttpOnly", "SameSite=Strict", "Path=/"}, false)
		check(t, csrf, []string{"palisade_csrf=", "HttpOnly", "SameSite=Strict", "Path=/"}, false)
	})
	t.Run("Production", func(t *testing.T) {
		csrf, session := setCookies(t, apptest.Start(t, map[string]string{
			"PALISADE_ENV": "production", "PALISADE_BASE_URL": "https://blog.example",
			"PALISADE_SESSION_SECRET": apptest.NewSecret(),
		}))
		check(t, session, []string{"__Host-palisade_session=", "HttpOnly", "SameSite=Strict", "Path=/"}, true)
		check(t, csrf, []string{"__Host-palisade_csrf=", "HttpOnly", "SameSite=Strict", "Path=/"}, true)
	})
}

// TestSessionRenewedAtSignIn: a session ID planted in the victim's
// browser before sign-in (session fixation) is not the one they end up
// signed in with.
func TestSessionRenewedAtSignIn(t *testing.T) { apptest.ForEachStore(t, testSessionRenewedAtSignIn) }

func testSessionRenewedAtSignIn(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	attacker := newClient(t, srv)
	register(t, attacker, "mallory")
	planted := attacker.Cookie("palisade_session").Value
	register(t, newClient(t, srv), "alice")

	victim := newClient(t, srv)
	victim.SetCookie(&http.Cookie{Name: "palisade_session", Value: planted})
	// The planted session is signed in (the only valid session IDs are),
	// so the victim signs in from a page of it.
	p := victim.Submit(t, "/write", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}})
	wantRedirect(t, p, "/")
	if got := victim.Cookie("palisade_session"); got == nil || got.Value == planted {
		t.Fatal("session ID not renewed at sign-in (fixation)")
	}
	if strings.Contains(attacker.Page(t, "/").Text(), "<strong>alice</strong>") {
		t.Fatal("the planted session ID is now signed in as the victim")
	}
}

// TestArrivingFromAnotherSiteKeepsTheSession: a browser following a link
// from another site does not send the SameSite=Strict session cookie. The
// sign-in page it then sees must not hand out a new session cookie that
// would overwrite, and so sign out, the visitor's real one.
func TestArrivingFromAnotherSiteKeepsTheSession(t *testing.T) {
	apptest.ForEachStore(t, testArrivingFromAnotherSiteKeepsTheSession)
}

func testArrivingFromAnotherSiteKeepsTheSession(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	for _, path := range []string{"/login", "/register", "/", "/write"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "palisade_session" {
				t.Fatalf("%s set a session cookie for a visitor without one", path)
			}
		}
	}
}

// TestForgedCSRFCookieRefused: the anonymous CSRF cookie is signed; one
// the attacker made up (with a matching token) does not pass.
func TestForgedCSRFCookieRefused(t *testing.T) { apptest.ForEachStore(t, testForgedCSRFCookieRefused) }

func testForgedCSRFCookieRefused(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	secret := make([]byte, 32)
	forgedCookie := base64.RawURLEncoding.EncodeToString(append(secret, make([]byte, 16)...))
	form := url.Values{"username": {"forged_user"}, "password": {apptest.Password}, "_csrf": {httpsec.MaskCSRFToken(secret)}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "palisade_csrf="+forgedCookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged CSRF cookie: %d, want 403", resp.StatusCode)
	}
}

func TestOldSessionUnusableAfterSignOut(t *testing.T) {
	apptest.ForEachStore(t, testOldSessionUnusableAfterSignOut)
}

func testOldSessionUnusableAfterSignOut(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	stolen := b.Cookie("palisade_session").Value
	wantRedirect(t, b.PostForm(t, "/logout", url.Values{"_csrf": {b.CSRFToken(t, "/write")}}, nil), "/")
	if !strings.Contains(srv.Logs.String(), `"level":"INFO","msg":"security","event":"logout"`) {
		t.Errorf("signing out is not logged at INFO:\n%s", srv.Logs)
	}

	thief := newClient(t, srv)
	thief.SetCookie(&http.Cookie{Name: "palisade_session", Value: stolen})
	wantRedirect(t, thief.Page(t, "/write"), "/login?next=%2Fwrite")
	if strings.Contains(thief.Page(t, "/").Text(), "Signed in as") {
		t.Fatal("a signed-out session still works")
	}
}

func TestSessionsEndWhenAccountChanges(t *testing.T) {
	apptest.ForEachStore(t, testSessionsEndWhenAccountChanges)
}

func testSessionsEndWhenAccountChanges(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, id string)
	}{
		{"Disabled", func(t *testing.T, id string) {
			if err := srv.Store.DisableUser(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}},
		// The flag alone, without the token version bump that
		// DisableUser also makes, must end the session.
		{"DisabledFlagOnly", func(t *testing.T, id string) {
			srv.DisableOnly(t, id)
		}},
		{"PasswordChanged", func(t *testing.T, id string) {
			if err := srv.Store.SetPasswordHash(t.Context(), id, "new-hash", blog.PasswordChanged); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ToLower(tc.name)
			b := newClient(t, srv)
			register(t, b, name)
			u, err := srv.Store.UserByUsername(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, u.ID)
			wantRedirect(t, b.Page(t, "/write"), "/login?next=%2Fwrite")
			if !strings.Contains(srv.Logs.String(), `"event":"session.revoked"`) {
				t.Fatal("revoked session not logged")
			}
		})
	}
}

func TestOtherUsersPostRefused(t *testing.T) { apptest.ForEachStore(t, testOtherUsersPostRefused) }

func testOtherUsersPostRefused(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	alice := newClient(t, srv)
	register(t, alice, "alice")
	id := write(t, alice, "Alice's post", "Written by Alice alone.")
	mallory := newClient(t, srv)
	register(t, mallory, "mallory")

	if strings.Contains(mallory.Page(t, "/post/"+id).Text(), "/edit") {
		t.Fatal("edit link shown to another user")
	}
	wantStatus(t, mallory.Page(t, "/post/"+id+"/edit"), http.StatusForbidden)
	wantStatus(t, mallory.Page(t, "/post/"+id+"/delete"), http.StatusForbidden)
	token := mallory.CSRFToken(t, "/write")
	wantStatus(t, mallory.PostForm(t, "/post/"+id+"/edit", url.Values{"_csrf": {token}, "title": {"Defaced"}, "content": {"Defaced content"}}, nil), http.StatusForbidden)
	wantStatus(t, mallory.PostForm(t, "/post/"+id+"/delete", url.Values{"_csrf": {token}}, nil), http.StatusForbidden)
	got, err := srv.Store.PostByID(t.Context(), id)
	if err != nil || got.Title != "Alice's post" {
		t.Fatalf("post after refused attempts: %+v %v", got, err)
	}
	t.Run("Anonymous", func(t *testing.T) {
		anon := newClient(t, srv)
		wantRedirect(t, anon.Page(t, "/post/"+id+"/edit"), "/login?next=%2Fpost%2F"+id+"%2Fedit")
	})
}

func TestPagesEscapeUserContent(t *testing.T) { apptest.ForEachStore(t, testPagesEscapeUserContent) }

func testPagesEscapeUserContent(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	id := write(t, b, `<script>alert(1)</script>`, `<img src=x onerror=alert(2)> and "quotes" & <b>tags</b>`)
	for _, path := range []string{"/", "/post/" + id, "/post/" + id + "/edit"} {
		p := b.Page(t, path)
		if strings.Contains(p.Text(), "<script>alert") || strings.Contains(p.Text(), "<img") || strings.Contains(p.Text(), "onerror=alert") && !strings.Contains(p.Text(), "&lt;img") {
			t.Fatalf("%s renders user markup:\n%s", path, p.Text())
		}
		if !strings.Contains(p.Text(), "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Fatalf("%s does not show the title as text", path)
		}
	}
}

func TestPageHeaders(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newClient(t, srv)
	for _, path := range []string{"/", "/login", "/register", "/no-such-page"} {
		p := b.Page(t, path)
		csp := p.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows inline, eval or another origin", path, csp)
		}
		if p.Header.Get("Content-Type") != "text/html; charset=utf-8" || p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, p.Header)
		}
	}
	t.Run("StaticAssetsImmutable", func(t *testing.T) {
		m := regexp.MustCompile(`href="(/static/style\.[0-9a-f]+\.css)"`).FindStringSubmatch(b.Page(t, "/").Text())
		if m == nil {
			t.Fatal("no hashed stylesheet link")
		}
		p := b.Page(t, m[1])
		wantStatus(t, p, http.StatusOK)
		if p.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("asset headers %v", p.Header)
		}
		wantStatus(t, b.Page(t, "/static/style.css"), http.StatusNotFound)
		wantStatus(t, b.Page(t, "/static/..%2f..%2fgo.mod"), http.StatusNotFound)
	})
	t.Run("SignedInPagesNotCached", func(t *testing.T) {
		register(t, b, "alice")
		if b.Page(t, "/").Header.Get("Cache-Control") != "no-store" {
			t.Fatal("signed-in page cacheable")
		}
	})
}

func TestErrorPages(t *testing.T) { apptest.ForEachStore(t, testErrorPages) }

func testErrorPages(t *testing.T, st apptest.Store) {
	srv := st.Start(t, map[string]string{"PALISADE_RATE_LIMIT": "30/15m"})
	b := newClient(t, srv)
	t.Run("NotFound", func(t *testing.T) {
		p := b.Page(t, "/no-such-page")
		wantStatus(t, p, http.StatusNotFound)
		if !strings.Contains(p.Text(), "<h1>Not Found</h1>") {
			t.Fatalf("404 page:\n%s", p.Text())
		}
		p = b.Page(t, "/post/"+blog.NewID())
		wantStatus(t, p, http.StatusNotFound)
	})
	t.Run("APIClientsStillGetJSON", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/no-such-page")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("API 404 content type %q", resp.Header.Get("Content-Type"))
		}
	})
	t.Run("LoginThrottled", func(t *testing.T) {
		register(t, newClient(t, srv), "alice")
		var p *page
		for range 6 {
			p = b.Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {"wrong password guess"}})
		}
		wantStatus(t, p, http.StatusTooManyRequests)
		if !strings.Contains(p.Text(), "Too many sign-in attempts") || p.Header.Get("Retry-After") == "" {
			t.Fatalf("throttled form:\n%s", p.Text())
		}
	})
	t.Run("RateLimited", func(t *testing.T) {
		for range 30 {
			b.Page(t, "/")
		}
		p := b.Page(t, "/")
		wantStatus(t, p, http.StatusTooManyRequests)
		if !strings.Contains(p.Text(), "Too many requests, please try again later.") || !strings.Contains(p.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("429 page:\n%s", p.Text())
		}
	})
}

func TestInternalErrorPage(t *testing.T) { apptest.ForEachStore(t, testInternalErrorPage) }

func testInternalErrorPage(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	srv.SwapStore(t, failingStore{srv.Store})
	b := newClient(t, srv)
	p := b.Page(t, "/")
	wantStatus(t, p, http.StatusInternalServerError)
	id := p.Header.Get("X-Request-Id")
	if id == "" || !strings.Contains(p.Text(), id) {
		t.Fatal("500 page does not show the request ID")
	}
	if strings.Contains(p.Text(), "db.internal") {
		t.Fatal("driver error leaked into the page")
	}
}

type failingStore struct{ blog.Store }

var errDB = errors.New(`connection to "db.internal:5432" refused`)

func (failingStore) ListPosts(context.Context, blog.Page) ([]blog.Post, *blog.Cursor, error) {
	return nil, nil, errDB
}

// TestConflictPage: a conflict from the store is a 409 page with the
// store's safe message, as the API answers it, not a 500.
func TestConflictPage(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	srv.SwapStore(t, conflictingStore{srv.Store})
	p := b.Submit(t, "/write", "/write", url.Values{"title": {"Twice"}, "content": {"Written twice."}})
	wantStatus(t, p, http.StatusConflict)
	if !strings.Contains(p.Text(), "<h1>Conflict</h1>") || !strings.Contains(p.Text(), "That post already exists") {
		t.Fatalf("409 page:\n%s", p.Text())
	}
}

type conflictingStore struct{ blog.Store }

func (conflictingStore) CreatePost(context.Context, blog.NewPost) (blog.Post, error) {
	return blog.Post{}, blog.Errorf(blog.ECONFLICT, "That post already exists")
}

func TestOversizedFormRefused(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	p := b.PostForm(t, "/write", url.Values{"_csrf": {b.CSRFToken(t, "/write")}, "title": {"Big"}, "content": {strings.Repeat("a", 3<<20)}}, nil)
	wantStatus(t, p, http.StatusRequestEntityTooLarge)
	if countPosts(t, srv) != 0 {
		t.Fatal("an oversized form stored a post")
	}
}

// TestSessionStoreHoldsOnlyHashes: the database keeps a hash of the
// session token, so a copy of it (a backup, an injection elsewhere) gives
// no cookie that works.
func TestSessionStoreHoldsOnlyHashes(t *testing.T) {
	apptest.ForEachStore(t, testSessionStoreHoldsOnlyHashes)
}

func testSessionStoreHoldsOnlyHashes(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	token := b.Cookie("palisade_session").Value
	// Sessions live in Redis when there is one, else in the database.
	var sessions blog.SessionStore = srv.Store
	if srv.Redis != nil {
		sessions = srv.Redis.Sessions()
	}
	if _, found, err := sessions.FindSession(t.Context(), token); err != nil || found {
		t.Fatalf("the session is stored under the cookie's own value: %v, %v", found, err)
	}
	sum := sha256.Sum256([]byte(token))
	if _, found, err := sessions.FindSession(t.Context(), hex.EncodeToString(sum[:])); err != nil || !found {
		t.Fatalf("the session is not stored under the hash of its token: %v", err)
	}
}

// costlyTable is a table of 100 columns and 1,000 rows of "|": 2.4 KB that
// goldmark padded to 3.1 MB of HTML.
var costlyTable = strings.Repeat("|a", 100) + "|\n" + strings.Repeat("|-", 100) + "|\n" + strings.Repeat("|\n", 1000)

// TestCostlyContentRefused: content over a rendering limit is shown back in
// the form with the reason (400), not stored and not a 500.
func TestCostlyContentRefused(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newClient(t, srv)
	register(t, b, "alice")
	for _, content := range []string{costlyTable, strings.Repeat(">", 50_000)} {
		p := b.Submit(t, "/write", "/write", url.Values{"title": {"Costly"}, "content": {content}})
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Text(), "Content has too many table cells") && !strings.Contains(p.Text(), "Content is nested too deeply") {
			t.Fatalf("form does not say why: %.300s", p.Text())
		}
	}
	if countPosts(t, srv) != 0 {
		t.Fatal("costly content stored")
	}
	id := write(t, b, "Honest", "An honest post.")
	p := b.Submit(t, "/post/"+id+"/edit", "/post/"+id+"/edit", url.Values{"title": {"Honest"}, "content": {costlyTable}})
	wantStatus(t, p, http.StatusBadRequest)
	if got, err := srv.Store.PostByID(t.Context(), id); err != nil || got.Content != "An honest post." {
		t.Fatalf("post after refused edit: %+v %v", got, err)
	}
}

// TestEditRefusedBeforeRender: the edit form's POST checks that the post
// exists and is the user's before it validates or renders the content.
// The content would fail a rendering limit (400); 403 and 404 show that
// rendering never began.
func TestEditRefusedBeforeRender(t *testing.T) {
	srv := apptest.Start(t, nil)
	alice := newClient(t, srv)
	register(t, alice, "alice")
	id := write(t, alice, "Alice's post", "Written by Alice alone.")
	mallory := newClient(t, srv)
	register(t, mallory, "mallory")
	token := mallory.CSRFToken(t, "/write")
	for _, content := range []string{costlyTable, strings.Repeat("c", blog.ContentMax+1)} {
		form := url.Values{"_csrf": {token}, "title": {"Defaced"}, "content": {content}}
		wantStatus(t, mallory.PostForm(t, "/post/"+id+"/edit", form, nil), http.StatusForbidden)
		wantStatus(t, mallory.PostForm(t, "/post/"+blog.NewID()+"/edit", form, nil), http.StatusNotFound)
	}
	if got, err := srv.Store.PostByID(t.Context(), id); err != nil || got.Title != "Alice's post" {
		t.Fatalf("post after refused attempts: %+v %v", got, err)
	}
}
