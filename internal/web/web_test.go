package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// browser is an HTTP client that behaves like a person's browser: a cookie
// jar, no automatic redirects (so tests see each 303), page requests that
// accept HTML, and same-origin form posts (Sec-Fetch-Site: same-origin,
// Origin set), as a real browser sends them.
type browser struct {
	t      *testing.T
	srv    *apptest.Server
	client *http.Client
}

func newBrowser(t *testing.T, srv *apptest.Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, srv: srv, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body read.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	return b.do(req)
}

// post submits a form as the browser would from one of our pages; extra
// headers override (a cross-site Sec-Fetch-Site, a foreign Origin).
func (b *browser) post(path string, form url.Values, headers map[string]string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Origin", b.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// token loads path and returns the CSRF token of its first form.
func (b *browser) token(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s (status %d)", path, p.status)
	}
	return m[1]
}

// submit loads the form page, then posts the form with its token.
func (b *browser) submit(formPage, action string, form url.Values) *page {
	b.t.Helper()
	form.Set("_csrf", b.token(formPage))
	return b.post(action, form, nil)
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) register(username string) {
	b.t.Helper()
	p := b.submit("/register", "/register", url.Values{"username": {username}, "password": {apptest.Password}})
	wantRedirect(b.t, p, "/")
}

// write publishes a post and returns its ID.
func (b *browser) write(title, content string) string {
	b.t.Helper()
	p := b.submit("/write", "/write", url.Values{"title": {title}, "content": {content}})
	wantStatus(b.t, p, http.StatusSeeOther)
	id, ok := strings.CutPrefix(p.header.Get("Location"), "/post/")
	if !ok {
		b.t.Fatalf("write redirected to %q", p.header.Get("Location"))
	}
	return id
}

func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d\n%s", p.status, status, p.body)
	}
}

func wantRedirect(t *testing.T, p *page, to string) {
	t.Helper()
	wantStatus(t, p, http.StatusSeeOther)
	if got := p.header.Get("Location"); got != to {
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
	b := newBrowser(t, srv)

	home := b.get("/")
	wantStatus(t, home, http.StatusOK)
	if !strings.Contains(home.body, "No posts yet") {
		t.Fatal("empty home page does not say so")
	}
	if b.cookie("palisade_session") != nil {
		t.Fatal("reading the home page created a session")
	}

	b.register("alice")
	if !strings.Contains(b.get("/").body, "Signed in as </span><strong>alice</strong>") {
		t.Fatal("not signed in after registering")
	}
	id := b.write("Hello, world", "My **first** post.")

	t.Run("PostPage", func(t *testing.T) {
		p := b.get("/post/" + id)
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.body, "<h1>Hello, world</h1>") || !strings.Contains(p.body, "<strong>first</strong>") {
			t.Fatalf("post page:\n%s", p.body)
		}
	})
	t.Run("OnHomePage", func(t *testing.T) {
		if !strings.Contains(b.get("/").body, `href="/post/`+id+`"`) {
			t.Fatal("post not on the home page")
		}
	})
	t.Run("Edit", func(t *testing.T) {
		p := b.submit("/post/"+id+"/edit", "/post/"+id+"/edit", url.Values{"title": {"Hello again"}, "content": {"Edited content here."}})
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
		p := b.submit("/write", "/write", url.Values{"title": {"ab"}, "content": {"short"}})
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.body, "Title too short") || !strings.Contains(p.body, "Content too short") || !strings.Contains(p.body, `value="ab"`) {
			t.Fatalf("form errors not shown:\n%s", p.body)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		confirm := b.get("/post/" + id + "/delete")
		wantStatus(t, confirm, http.StatusOK)
		if !strings.Contains(confirm.body, "Delete this post?") || countPosts(t, srv) != 1 {
			t.Fatal("the delete link must ask first, not delete")
		}
		token := b.token("/post/" + id + "/delete")
		wantRedirect(t, b.post("/post/"+id+"/delete", url.Values{"_csrf": {token}}, nil), "/")
		if countPosts(t, srv) != 0 {
			t.Fatal("post not deleted")
		}
	})
	t.Run("Logout", func(t *testing.T) {
		token := b.token("/write")
		wantRedirect(t, b.post("/logout", url.Values{"_csrf": {token}}, nil), "/")
		if strings.Contains(b.get("/").body, "Signed in as") {
			t.Fatal("still signed in after signing out")
		}
		wantRedirect(t, b.get("/write"), "/login")
	})
}

func TestPagedHomePage(t *testing.T) { apptest.ForEachStore(t, testPagedHomePage) }

func testPagedHomePage(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newBrowser(t, srv)
	b.register("alice")
	for i := range 25 {
		b.write("Post number "+string(rune('A'+i)), "Some content for the post")
	}
	first := b.get("/")
	m := regexp.MustCompile(`href="(/\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if m == nil || strings.Count(first.body, `<article>`) != 20 {
		t.Fatalf("first page: %d posts, next link %v", strings.Count(first.body, `<article>`), m)
	}
	second := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if strings.Count(second.body, `<article>`) != 5 || strings.Contains(second.body, `rel="next"`) {
		t.Fatalf("second page has %d posts", strings.Count(second.body, `<article>`))
	}
	wantStatus(t, b.get("/?cursor=not-a-cursor"), http.StatusBadRequest)
}

// TestCSRF tries every form with a missing token, a wrong one, another
// session's, and a valid one sent cross-site or from a foreign origin.
// Each is refused with 403 "Invalid CSRF token" and changes nothing.
func TestCSRF(t *testing.T) { apptest.ForEachStore(t, testCSRF) }

func testCSRF(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	victim := newBrowser(t, srv)
	victim.register("alice")
	postID := victim.write("Alice's post", "Written by Alice alone.")
	other := newBrowser(t, srv)
	other.register("mallory")
	otherToken := other.token("/write")
	validToken := victim.token("/write")

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
				p := victim.post(f.action, form, a.headers)
				wantStatus(t, p, http.StatusForbidden)
				if !strings.Contains(p.body, "Invalid CSRF token") {
					t.Fatalf("403 page does not say Invalid CSRF token:\n%s", p.body)
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
		if !strings.Contains(victim.get("/").body, "Signed in as </span><strong>alice</strong>") {
			t.Fatal("forged logout or login changed the victim's session")
		}
	})
	t.Run("ErrorPageKnowsWhoIsSignedIn", func(t *testing.T) {
		p := victim.post("/write", url.Values{"title": {"x"}}, nil)
		wantStatus(t, p, http.StatusForbidden)
		if !strings.Contains(p.body, "<strong>alice</strong>") {
			t.Fatal("the CSRF error page shows a signed-in user as signed out")
		}
	})
	t.Run("JSONClientGetsJSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/write", strings.NewReader("title=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		p := victim.do(req)
		wantStatus(t, p, http.StatusForbidden)
		if strings.TrimSpace(p.body) != `{"error":"Invalid CSRF token"}` {
			t.Fatalf("body %q", p.body)
		}
	})
	t.Run("HeaderTokenAccepted", func(t *testing.T) {
		p := victim.post("/write", url.Values{"title": {"Via header"}, "content": {"Token in X-CSRF-Token"}}, map[string]string{"X-CSRF-Token": victim.token("/write")})
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
		form := url.Values{"username": {"alice"}, "password": {apptest.Password}, "_csrf": {csrfField.FindStringSubmatch(string(body))[1]}}
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
	attacker := newBrowser(t, srv)
	attacker.register("mallory")
	planted := attacker.cookie("palisade_session").Value
	newBrowser(t, srv).register("alice")

	victim := newBrowser(t, srv)
	u, _ := url.Parse(srv.URL)
	victim.client.Jar.SetCookies(u, []*http.Cookie{{Name: "palisade_session", Value: planted}})
	// The planted session is signed in (the only valid session IDs are),
	// so the victim signs in from a page of it.
	p := victim.submit("/write", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}})
	wantRedirect(t, p, "/")
	if got := victim.cookie("palisade_session"); got == nil || got.Value == planted {
		t.Fatal("session ID not renewed at sign-in (fixation)")
	}
	if strings.Contains(attacker.get("/").body, "<strong>alice</strong>") {
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
	b := newBrowser(t, srv)
	b.register("alice")
	stolen := b.cookie("palisade_session").Value
	wantRedirect(t, b.post("/logout", url.Values{"_csrf": {b.token("/write")}}, nil), "/")
	if !strings.Contains(srv.Logs.String(), `"level":"INFO","msg":"security","event":"logout"`) {
		t.Errorf("signing out is not logged at INFO:\n%s", srv.Logs)
	}

	thief := newBrowser(t, srv)
	u, _ := url.Parse(srv.URL)
	thief.client.Jar.SetCookies(u, []*http.Cookie{{Name: "palisade_session", Value: stolen}})
	wantRedirect(t, thief.get("/write"), "/login")
	if strings.Contains(thief.get("/").body, "Signed in as") {
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
			b := newBrowser(t, srv)
			b.register(name)
			u, err := srv.Store.UserByUsername(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, u.ID)
			wantRedirect(t, b.get("/write"), "/login")
			if !strings.Contains(srv.Logs.String(), `"event":"session.revoked"`) {
				t.Fatal("revoked session not logged")
			}
		})
	}
}

func TestOtherUsersPostRefused(t *testing.T) { apptest.ForEachStore(t, testOtherUsersPostRefused) }

func testOtherUsersPostRefused(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	alice := newBrowser(t, srv)
	alice.register("alice")
	id := alice.write("Alice's post", "Written by Alice alone.")
	mallory := newBrowser(t, srv)
	mallory.register("mallory")

	if strings.Contains(mallory.get("/post/"+id).body, "/edit") {
		t.Fatal("edit link shown to another user")
	}
	wantStatus(t, mallory.get("/post/"+id+"/edit"), http.StatusForbidden)
	wantStatus(t, mallory.get("/post/"+id+"/delete"), http.StatusForbidden)
	token := mallory.token("/write")
	wantStatus(t, mallory.post("/post/"+id+"/edit", url.Values{"_csrf": {token}, "title": {"Defaced"}, "content": {"Defaced content"}}, nil), http.StatusForbidden)
	wantStatus(t, mallory.post("/post/"+id+"/delete", url.Values{"_csrf": {token}}, nil), http.StatusForbidden)
	got, err := srv.Store.PostByID(t.Context(), id)
	if err != nil || got.Title != "Alice's post" {
		t.Fatalf("post after refused attempts: %+v %v", got, err)
	}
	t.Run("Anonymous", func(t *testing.T) {
		anon := newBrowser(t, srv)
		wantRedirect(t, anon.get("/post/"+id+"/edit"), "/login")
	})
}

func TestPagesEscapeUserContent(t *testing.T) { apptest.ForEachStore(t, testPagesEscapeUserContent) }

func testPagesEscapeUserContent(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	b := newBrowser(t, srv)
	b.register("alice")
	id := b.write(`<script>alert(1)</script>`, `<img src=x onerror=alert(2)> and "quotes" & <b>tags</b>`)
	for _, path := range []string{"/", "/post/" + id, "/post/" + id + "/edit"} {
		p := b.get(path)
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img") || strings.Contains(p.body, "onerror=alert") && !strings.Contains(p.body, "&lt;img") {
			t.Fatalf("%s renders user markup:\n%s", path, p.body)
		}
		if !strings.Contains(p.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Fatalf("%s does not show the title as text", path)
		}
	}
}

func TestPageHeaders(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newBrowser(t, srv)
	for _, path := range []string{"/", "/login", "/register", "/no-such-page"} {
		p := b.get(path)
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows inline, eval or another origin", path, csp)
		}
		if p.header.Get("Content-Type") != "text/html; charset=utf-8" || p.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, p.header)
		}
	}
	t.Run("StaticAssetsImmutable", func(t *testing.T) {
		m := regexp.MustCompile(`href="(/static/style\.[0-9a-f]+\.css)"`).FindStringSubmatch(b.get("/").body)
		if m == nil {
			t.Fatal("no hashed stylesheet link")
		}
		p := b.get(m[1])
		wantStatus(t, p, http.StatusOK)
		if p.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
			t.Fatalf("asset headers %v", p.header)
		}
		wantStatus(t, b.get("/static/style.css"), http.StatusNotFound)
		wantStatus(t, b.get("/static/..%2f..%2fgo.mod"), http.StatusNotFound)
	})
	t.Run("SignedInPagesNotCached", func(t *testing.T) {
		b.register("alice")
		if b.get("/").header.Get("Cache-Control") != "no-store" {
			t.Fatal("signed-in page cacheable")
		}
	})
}

func TestErrorPages(t *testing.T) { apptest.ForEachStore(t, testErrorPages) }

func testErrorPages(t *testing.T, st apptest.Store) {
	srv := st.Start(t, map[string]string{"PALISADE_RATE_LIMIT": "30/15m"})
	b := newBrowser(t, srv)
	t.Run("NotFound", func(t *testing.T) {
		p := b.get("/no-such-page")
		wantStatus(t, p, http.StatusNotFound)
		if !strings.Contains(p.body, "<h1>Not Found</h1>") {
			t.Fatalf("404 page:\n%s", p.body)
		}
		p = b.get("/post/" + blog.NewID())
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
		newBrowser(t, srv).register("alice")
		var p *page
		for range 6 {
			p = b.submit("/login", "/login", url.Values{"username": {"alice"}, "password": {"wrong password guess"}})
		}
		wantStatus(t, p, http.StatusTooManyRequests)
		if !strings.Contains(p.body, "Too many sign-in attempts") || p.header.Get("Retry-After") == "" {
			t.Fatalf("throttled form:\n%s", p.body)
		}
	})
	t.Run("RateLimited", func(t *testing.T) {
		for range 30 {
			b.get("/")
		}
		p := b.get("/")
		wantStatus(t, p, http.StatusTooManyRequests)
		if !strings.Contains(p.body, "Too many requests, please try again later.") || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
			t.Fatalf("429 page:\n%s", p.body)
		}
	})
}

func TestInternalErrorPage(t *testing.T) { apptest.ForEachStore(t, testInternalErrorPage) }

func testInternalErrorPage(t *testing.T, st apptest.Store) {
	srv := st.Start(t, nil)
	srv.SwapStore(t, failingStore{srv.Store})
	b := newBrowser(t, srv)
	p := b.get("/")
	wantStatus(t, p, http.StatusInternalServerError)
	id := p.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(p.body, id) {
		t.Fatal("500 page does not show the request ID")
	}
	if strings.Contains(p.body, "db.internal") {
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
	b := newBrowser(t, srv)
	b.register("alice")
	srv.SwapStore(t, conflictingStore{srv.Store})
	p := b.submit("/write", "/write", url.Values{"title": {"Twice"}, "content": {"Written twice."}})
	wantStatus(t, p, http.StatusConflict)
	if !strings.Contains(p.body, "<h1>Conflict</h1>") || !strings.Contains(p.body, "That post already exists") {
		t.Fatalf("409 page:\n%s", p.body)
	}
}

type conflictingStore struct{ blog.Store }

func (conflictingStore) CreatePost(context.Context, blog.NewPost) (blog.Post, error) {
	return blog.Post{}, blog.Errorf(blog.ECONFLICT, "That post already exists")
}

func TestOversizedFormRefused(t *testing.T) {
	srv := apptest.Start(t, nil)
	b := newBrowser(t, srv)
	b.register("alice")
	p := b.post("/write", url.Values{"_csrf": {b.token("/write")}, "title": {"Big"}, "content": {strings.Repeat("a", 3<<20)}}, nil)
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
	b := newBrowser(t, srv)
	b.register("alice")
	token := b.cookie("palisade_session").Value
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
	b := newBrowser(t, srv)
	b.register("alice")
	for _, content := range []string{costlyTable, strings.Repeat(">", 50_000)} {
		p := b.submit("/write", "/write", url.Values{"title": {"Costly"}, "content": {content}})
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.body, "Content has too many table cells") && !strings.Contains(p.body, "Content is nested too deeply") {
			t.Fatalf("form does not say why: %.300s", p.body)
		}
	}
	if countPosts(t, srv) != 0 {
		t.Fatal("costly content stored")
	}
	id := b.write("Honest", "An honest post.")
	p := b.submit("/post/"+id+"/edit", "/post/"+id+"/edit", url.Values{"title": {"Honest"}, "content": {costlyTable}})
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
	alice := newBrowser(t, srv)
	alice.register("alice")
	id := alice.write("Alice's post", "Written by Alice alone.")
	mallory := newBrowser(t, srv)
	mallory.register("mallory")
	token := mallory.token("/write")
	for _, content := range []string{costlyTable, strings.Repeat("c", blog.ContentMax+1)} {
		form := url.Values{"_csrf": {token}, "title": {"Defaced"}, "content": {content}}
		wantStatus(t, mallory.post("/post/"+id+"/edit", form, nil), http.StatusForbidden)
		wantStatus(t, mallory.post("/post/"+blog.NewID()+"/edit", form, nil), http.StatusNotFound)
	}
	if got, err := srv.Store.PostByID(t.Context(), id); err != nil || got.Title != "Alice's post" {
		t.Fatalf("post after refused attempts: %+v %v", got, err)
	}
}
