package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestBrowserDraftsAndAuthorPage writes a draft through the editor's
// choice, finds it on the author's own page, follows a byline to an author
// page, and checks that a signed-out reader's author page lists no draft.
// It leaves screenshots of the editor with the draft choice and of the
// author page, as the author and as a reader.
func TestBrowserDraftsAndAuthorPage(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)
	dir := apptest.ScreenshotDir(t)
	const (
		user  = "grace_hopper"
		draft = "Notes for a talk on compilers"
	)

	b.Register(t, srv, user)
	b.Publish(t, srv, "Hello, Palisade", "This is the first post on a fresh blog.\n\nIt has two short paragraphs, and nothing else.")
	b.Publish(t, srv, "Nanoseconds, explained with wire", "Each piece of wire is about a foot long: the distance light travels in a nanosecond.")

	apptest.Step(t, "write a draft", func(t *testing.T) {
		b.Do(t, "set the viewport", chromedp.EmulateViewport(1280, 800))
		b.Navigate(t, srv.URL+"/write")
		b.WantText(t, "Who can read it", "Published: everyone", "Draft: only you")
		b.Fill(t, "title", draft)
		b.Fill(t, "content", "Start with the bug in the relay.\n\nThen the A-0 system, and why people doubted it.")
		b.Do(t, "choose Draft", chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=status][value=draft]').click()`))
		if !apptest.BrowserEval[bool](t, b, `document.querySelector('input[name=status][value=draft]').checked`) {
			t.Fatal("the Draft choice is not selected")
		}
		b.Screenshot(t, dir, "write-draft-desktop.png", true)
		b.Submit(t)
		b.WantText(t, draft, "Only its author and the site’s admins can see this post.")
	})

	apptest.Step(t, "own author page lists the draft", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/")
		b.WantNoText(t, draft)
		b.ClickAndWait(t, `.feed .byline a.author`)
		b.WantLocation(t, srv.URL+"/u/"+user)
		b.WantText(t, "Posts by "+user, "Your drafts", draft, "Hello, Palisade", "Nanoseconds, explained with wire")
		b.Screenshot(t, dir, "author-own-desktop.png", true)
	})

	apptest.Step(t, "a reader's author page has no draft", func(t *testing.T) {
		b.ClickAndWait(t, `header.site form[action="/logout"] button`)
		b.Navigate(t, srv.URL+"/u/"+user)
		b.WantText(t, "Posts by "+user, "Hello, Palisade")
		b.WantNoText(t, "Your drafts", draft)
		b.Screenshot(t, dir, "author-desktop.png", true)
		b.Do(t, "set a phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		b.Navigate(t, srv.URL+"/u/"+user)
		b.Screenshot(t, dir, "author-phone.png", true)
	})
}
