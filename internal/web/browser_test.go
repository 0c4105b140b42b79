package web_test

// End-to-end tests of the website in a real browser: headless Chromium,
// driven by chromedp, against the whole application (apptest.Start). They
// check what a person sees, that the pages run no script and break no CSP
// rule, that a hostile post shows as text, and that another site cannot
// post in a signed-in reader's name. TestBrowserScreenshots leaves pictures
// of the pages for a person to review. The harness is apptest.Browser.

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	cdpemulation "github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestBrowserUserJourney walks a new writer through the site: register,
// write, read, edit, sign out; every step checks the page as shown.
func TestBrowserUserJourney(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)

	const (
		user     = "ada_lovelace"
		title    = "Notes on the Analytical Engine"
		content  = "The engine weaves algebraic patterns\njust as the Jacquard loom weaves flowers and leaves."
		newTitle = "Notes on the Analytical Engine, revised"
	)
	var postURL string

	apptest.Step(t, "home page before anything", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/")
		b.WantText(t, "Newest posts", "No posts yet.", "Sign in", "Register")
		b.WantNoText(t, "Signed in as")
	})

	apptest.Step(t, "register", func(t *testing.T) {
		b.ClickAndWait(t, `header.site a[href="/register"]`)
		b.WantLocation(t, srv.URL+"/register")
		b.WantText(t, "Register", "3 to 32 letters, digits or underscores.")
		b.Fill(t, "username", user)
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantLocation(t, srv.URL+"/")
		b.WantText(t, "Signed in as "+user, "Write", "Sign out", "Write the first one.")
		if n := b.Count(t, `header.site a[href="/login"]`); n != 0 {
			t.Errorf("the header still offers Sign in (%d links)", n)
		}
	})

	apptest.Step(t, "write a post", func(t *testing.T) {
		b.ClickAndWait(t, `header.site a[href="/write"]`)
		b.WantLocation(t, srv.URL+"/write")
		b.WantText(t, "Write a post", "Title", "Content")
		b.Fill(t, "title", title)
		b.Fill(t, "content", content)
		b.Submit(t)
		postURL = b.Location(t)
		if !strings.HasPrefix(postURL, srv.URL+"/post/") {
			t.Fatalf("after Publish the page is %s, want a post page", postURL)
		}
		b.WantText(t, title, "By "+user, "The engine weaves algebraic patterns", "Edit", "Delete")
	})

	apptest.Step(t, "see it on the home page", func(t *testing.T) {
		b.ClickAndWait(t, `header.site a.brand`)
		b.WantLocation(t, srv.URL+"/")
		b.WantText(t, "Newest posts", title, "By "+user, "The engine weaves algebraic patterns just as the Jacquard loom")
		b.WantNoText(t, "No posts yet.")
	})

	apptest.Step(t, "open it", func(t *testing.T) {
		b.ClickAndWait(t, `.feed h2 a`)
		b.WantLocation(t, postURL)
		if got := b.TextContent(t, `main h1`); got != title {
			t.Errorf("post heading = %q, want %q", got, title)
		}
		b.WantText(t, "just as the Jacquard loom weaves flowers and leaves.", "← All posts")
	})

	apptest.Step(t, "edit it", func(t *testing.T) {
		b.ClickAndWait(t, `main .actions a.button`)
		b.WantLocation(t, postURL+"/edit")
		b.WantText(t, "Edit post")
		if got := apptest.BrowserEval[string](t, b, `document.getElementById("title").value`); got != title {
			t.Errorf("edit form title = %q, want the current title %q", got, title)
		}
		b.Fill(t, "title", newTitle)
		b.Submit(t)
		b.WantLocation(t, postURL)
		if got := b.TextContent(t, `main h1`); got != newTitle {
			t.Errorf("post heading after edit = %q, want %q", got, newTitle)
		}
		b.Navigate(t, srv.URL+"/")
		b.WantText(t, newTitle)
		if got := b.Count(t, `.feed > li`); got != 1 {
			t.Errorf("home page lists %d posts, want 1", got)
		}
	})

	apptest.Step(t, "sign out", func(t *testing.T) {
		b.ClickAndWait(t, `header.site button.link`)
		b.WantLocation(t, srv.URL+"/")
		b.WantText(t, "Sign in", "Register", newTitle)
		b.WantNoText(t, "Signed in as", "Sign out")
		// The Write page now sends a visitor to sign in.
		b.Navigate(t, srv.URL+"/write")
		b.WantLocation(t, srv.URL+"/login?next=%2Fwrite")
		b.WantText(t, "Sign in", "Username", "Password")
	})

	posts, _, err := srv.Store.ListPosts(context.Background(), blog.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || posts[0].Title != newTitle || posts[0].Author.Username != user {
		t.Errorf("stored posts = %+v, want one post %q by %s", posts, newTitle, user)
	}
}

// TestBrowserXSSShownAsText publishes a post whose title and content are
// script, through the form, and checks that every page shows it as text.
func TestBrowserXSSShownAsText(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)

	const (
		title   = `<script>alert(1)</script>`
		content = `<img src=x onerror=alert(2)>`
	)
	b.Register(t, srv, "mallory")
	postURL := b.Publish(t, srv, title, content)

	noActiveContent := func(t *testing.T) {
		t.Helper()
		if n := b.Count(t, `main .content img`); n != 0 {
			t.Errorf("the post content holds %d <img> elements, want 0", n)
		}
		if n := b.Count(t, `img`); n != 0 {
			t.Errorf("the page holds %d <img> elements, want 0", n)
		}
		if n := b.Count(t, `script`); n != 0 {
			t.Errorf("the page holds %d <script> elements, want 0", n)
		}
		if n := b.Count(t, `[onerror], [onload], [onclick]`); n != 0 {
			t.Errorf("the page holds %d elements with event handler attributes, want 0", n)
		}
		if n := b.DialogCount(); n != 0 {
			t.Errorf("%d JavaScript dialogs opened", n)
		}
	}

	t.Run("post page", func(t *testing.T) {
		b.Navigate(t, postURL)
		if got := b.TextContent(t, `main h1`); got != title {
			t.Errorf("post heading textContent = %q, want the raw %q", got, title)
		}
		if got := apptest.BrowserEval[string](t, b, `document.title`); got != title+" · Palisade" {
			t.Errorf("document.title = %q, want %q", got, title+" · Palisade")
		}
		b.WantText(t, title)
		t.Logf("post content as shown: %q (HTML %q)",
			b.TextContent(t, `main .content`), apptest.BrowserEval[string](t, b, `document.querySelector("main .content").innerHTML`))
		noActiveContent(t)
	})

	t.Run("home page", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/")
		if got := b.TextContent(t, `.feed h2 a`); got != title {
			t.Errorf("feed title textContent = %q, want the raw %q", got, title)
		}
		// The excerpt is the post's text as a reader sees it: the HTML the
		// author typed, shown as text.
		const shown = `<img src=x onerror=alert(2)>`
		if got := b.TextContent(t, `.feed .excerpt`); got != shown {
			t.Errorf("feed excerpt textContent = %q, want %q (the raw content, as text)", got, shown)
		}
		b.WantText(t, title, shown)
		noActiveContent(t)
	})

	t.Run("edit form", func(t *testing.T) {
		b.Navigate(t, postURL+"/edit")
		if got := apptest.BrowserEval[string](t, b, `document.getElementById("title").value`); got != title {
			t.Errorf("edit form title value = %q, want %q", got, title)
		}
		if got := apptest.BrowserEval[string](t, b, `document.getElementById("content").value`); got != content {
			t.Errorf("edit form content value = %q, want %q", got, content)
		}
		noActiveContent(t)
	})
}

// TestBrowserCrossSiteFormFails signs a victim in, then sends their browser
// to another origin whose page submits a form to the app's /write. Every
// variant must be refused (403, "Invalid CSRF token") and store nothing: the
// session cookie is SameSite=Strict, the app checks Sec-Fetch-Site/Origin,
// and the form's token must match the session.
func TestBrowserCrossSiteFormFails(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)
	b.Register(t, srv, "victim")

	// A token from a page the victim really loaded: valid for the
	// victim's session, as if it had leaked.
	b.Navigate(t, srv.URL+"/write")
	leaked := apptest.BrowserEval[string](t, b, `document.querySelector('main form input[name="_csrf"]').value`)
	if leaked == "" {
		t.Fatal("the Write form has no _csrf token")
	}

	// The attacker's server: its pages are not under our CSP, so an
	// inline script may submit the form.
	var (
		mu    sync.Mutex
		pages = map[string]string{}
	)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, ok := pages[r.URL.Path]
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNoContent) // e.g. a favicon: nothing to log
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, body) // fails only if the browser went away
	}))
	t.Cleanup(attacker.Close)

	// The answer to every refused form is a 403 page; Chromium may log
	// it as a failed load, which is expected here.
	b.AllowLogError(func(e *cdplog.Entry) bool {
		return e.Source == cdplog.EntrySourceNetwork && strings.Contains(e.Text, "status of 403") &&
			strings.HasPrefix(e.URL, srv.URL+"/write")
	})

	origins := []struct {
		name, base string
		fetchSite  string // the Sec-Fetch-Site the browser sends
		cookieSent bool   // whether the SameSite=Strict cookie goes along
	}{
		// Another port: another origin, but the same site (ports do not
		// count), so the SameSite=Strict cookie is still sent. Only the
		// origin check (Sec-Fetch-Site: same-site) and the token stand
		// in the way; with the leaked token, only the origin check.
		{"same-site other port", attacker.URL, "same-site", true},
		// Another host: another site; the browser sends no cookie and
		// Sec-Fetch-Site: cross-site.
		{"cross-site", strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1), "cross-site", false},
	}
	tokens := []struct {
		name  string
		field string // the _csrf input, or "" for none
	}{
		{"no token", ""},
		{"bogus token", `<input type="hidden" name="_csrf" value="bogus-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">`},
		{"leaked token", `<input type="hidden" name="_csrf" value="` + html.EscapeString(leaked) + `">`},
	}

	for _, o := range origins {
		for _, tok := range tokens {
			name := o.name + "/" + tok.name
			t.Run(name, func(t *testing.T) {
				postTitle := "Pwned via " + name
				path := "/" + strings.NewReplacer(" ", "-", "/", "-").Replace(name)
				mu.Lock()
				pages[path] = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>You won a prize</title></head>
<body>
<h1>Claiming your prize…</h1>
<form method="post" action="` + html.EscapeString(srv.URL) + `/write">
<input type="hidden" name="title" value="` + html.EscapeString(postTitle) + `">
<input type="hidden" name="content" value="This post was written by another site's page.">
` + tok.field + `
</form>
<script>document.forms[0].submit()</script>
</body></html>`
				mu.Unlock()

				before, postsBefore := b.DocumentCount(), b.PostCount()
				// Page.navigate without waiting for a load: the page
				// navigates again by itself, so wait for where it ends.
				res, err := chromedp.Call(b.Context(), cdppage.Navigate, cdppage.NavigateParams{URL: o.base + path})
				if err != nil || res.ErrorText != "" {
					t.Fatalf("open the attacker's page %s: %v %s", o.base+path, err, res.ErrorText)
				}
				b.WaitForPage(t, srv.URL+"/")

				shown := b.Text(t)
				loc := b.Location(t)
				t.Logf("the browser ended on %s showing: %q", loc, chromeFirstLines(shown, 3))
				if strings.Contains(loc, "/post/") || strings.Contains(shown, postTitle) {
					t.Errorf("the browser shows the forged post at %s:\n%s", loc, shown)
				}
				if loc != srv.URL+"/write" {
					t.Errorf("the browser ended on %s, want the refused %s/write", loc, srv.URL)
				}
				b.WantText(t, "Forbidden", "Invalid CSRF token")
				var sawForbidden bool
				for _, d := range b.DocumentsSince(before) {
					if d.URL == srv.URL+"/write" {
						sawForbidden = d.Status == http.StatusForbidden
						if !sawForbidden {
							t.Errorf("POST /write answered %d, want 403", d.Status)
						}
					}
				}
				if !sawForbidden {
					t.Errorf("saw no response from %s/write; documents: %+v", srv.URL, b.DocumentsSince(before))
				}
				// What the browser sent: the layers that refused it.
				sent := b.PostsSince(postsBefore)
				if len(sent) == 0 {
					t.Error("saw no POST request from the attacker's page")
				}
				for _, p := range sent {
					site := p.Headers["sec-fetch-site"]
					hasSession := strings.Contains(p.Headers["cookie"], "palisade_session=")
					t.Logf("POST %s: Sec-Fetch-Site=%q Origin=%q session cookie sent=%v", p.URL, site, p.Headers["origin"], hasSession)
					if site != o.fetchSite {
						t.Errorf("Sec-Fetch-Site = %q, want %q", site, o.fetchSite)
					}
					if hasSession != o.cookieSent {
						t.Errorf("session cookie sent = %v, want %v", hasSession, o.cookieSent)
					}
				}
				posts, _, err := srv.Store.ListPosts(context.Background(), blog.Page{Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(posts) != 0 {
					t.Fatalf("the forged request stored %d posts: %+v", len(posts), posts)
				}
			})
		}
	}

	logs := srv.Logs.String()
	if !strings.Contains(logs, `"csrf.rejected"`) || !strings.Contains(logs, `"cross-origin request"`) {
		t.Errorf("the server did not log csrf.rejected for a cross-origin request; log:\n%s", logs)
	}

	// Control: the victim was signed in all along, and their own form
	// still works, so the refusals above were the CSRF defences at work.
	t.Run("own form still works", func(t *testing.T) {
		b.Publish(t, srv, "Written by the victim", "This one the victim wrote on purpose.")
		b.WantText(t, "Signed in as victim")
		posts, _, err := srv.Store.ListPosts(context.Background(), blog.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(posts) != 1 || posts[0].Title != "Written by the victim" {
			t.Errorf("stored posts = %+v, want only the victim's own post", posts)
		}
	})
}

// TestBrowserScreenshots fills the blog with a few posts and leaves full-page
// screenshots of the main pages, at a desktop and a phone width, in
// $PALISADE_SCREENSHOT_DIR or a new temporary directory.
func TestBrowserScreenshots(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)
	dir := apptest.ScreenshotDir(t)

	b.Register(t, srv, "grace_hopper")
	b.Publish(t, srv, "Hello, Palisade", "This is the first post on a fresh blog.\n\nIt has two short paragraphs, and nothing else.")
	b.Publish(t, srv, "An unusually long title that will certainly need to wrap onto a second line on a phone", strings.Repeat("A long excerpt runs on and on. ", 12))
	postURL := b.Publish(t, srv, "A tour of Markdown", chromeMarkdownTour)

	var paths []string
	shoot := func(t *testing.T, name string, fullPage bool) {
		t.Helper()
		paths = append(paths, b.Screenshot(t, dir, name, fullPage))
	}
	for _, vp := range []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"desktop", 1280, 800, nil},
		{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulatePortrait}},
	} {
		t.Run(vp.name, func(t *testing.T) {
			b.Do(t, "set the viewport", chromedp.EmulateViewport(vp.width, vp.height, vp.opts...))
			b.Navigate(t, srv.URL+"/")
			shoot(t, "home-"+vp.name+".png", true)
			b.Navigate(t, postURL)
			shoot(t, "post-"+vp.name+".png", true)
			b.Navigate(t, srv.URL+"/write")
			shoot(t, "write-"+vp.name+".png", true)
		})
	}

	t.Run("dark", func(t *testing.T) {
		b.Do(t, "set the viewport and dark mode",
			chromedp.EmulateViewport(1280, 800),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Call(ctx, cdpemulation.SetEmulatedMedia, cdpemulation.SetEmulatedMediaParams{
					Features: []*cdpemulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
				})
				return err
			}),
		)
		b.Navigate(t, srv.URL+"/")
		shoot(t, "home-desktop-dark.png", true)
		b.Navigate(t, postURL)
		shoot(t, "post-desktop-dark.png", true)
		b.Do(t, "back to light mode", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpemulation.SetEmulatedMedia, cdpemulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("keyboard focus", func(t *testing.T) {
		b.Navigate(t, postURL)
		b.Do(t, "press Tab", chromedp.KeyEvent(kb.Tab))
		shoot(t, "focus-skip-link-desktop.png", false)
		// Skip link, brand, then Write.
		b.Do(t, "press Tab twice more", chromedp.KeyEvent(kb.Tab+kb.Tab))
		if got := apptest.BrowserEval[string](t, b, `document.activeElement.textContent.trim()`); got != "Write" {
			t.Errorf("focused element after three Tabs: %q, want Write", got)
		}
		shoot(t, "focus-nav-desktop.png", false)
	})

	t.Run("signed out", func(t *testing.T) {
		b.ClickAndWait(t, `header.site button.link`)
		b.Navigate(t, srv.URL+"/register")
		shoot(t, "register-desktop.png", true)
		b.Do(t, "set the viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		b.Navigate(t, srv.URL+"/")
		shoot(t, "home-signed-out-phone.png", true)
	})

	t.Logf("screenshots written to %s:\n  %s", dir, strings.Join(paths, "\n  "))
}

// chromeMarkdownTour is typed key by key, so it holds no tab: a Tab key
// would move the focus out of the textarea.
const chromeMarkdownTour = `Palisade renders **Markdown**, with *emphasis*, ` + "`inline code`" + ` and [links](https://example.com).

## A heading inside the post

- a list item
- another item, a little longer than the first one
- a third

1. first
2. second

> A quotation, set apart from the text around it.

` + "```" + `
func main() {
    fmt.Println("code blocks keep their spacing")
}
` + "```" + `

| Column | Another column |
| ------ | -------------- |
| one    | two            |
| three  | four           |

A last paragraph after the table.`

// chromeFirstLines returns the first n non-empty lines of s, joined by " | ".
func chromeFirstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
			if len(out) == n {
				break
			}
		}
	}
	return strings.Join(out, " | ")
}
