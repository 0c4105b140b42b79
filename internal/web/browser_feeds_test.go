package web_test

import (
	"net/url"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestBrowserSignInReturns follows a reader sent to sign in by the Write
// page back to it, in a real browser: the redirect, the hidden field, the
// POST. Then it checks that the note standing in for an image is styled
// as the site's note, that the page links its feed, and that the feed
// itself opens without an error or a CSP violation.
func TestBrowserSignInReturns(t *testing.T) {
	b := apptest.NewBrowser(t)
	srv := apptest.Start(t, nil)
	register(t, newClient(t, srv), "ada")

	apptest.Step(t, "sent to sign in", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/write")
		b.WantLocation(t, srv.URL+"/login?"+url.Values{"next": {"/write"}}.Encode())
	})
	apptest.Step(t, "back after signing in", func(t *testing.T) {
		b.Fill(t, "username", "ada")
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantLocation(t, srv.URL+"/write")
		b.WantText(t, "Write a post", "Signed in as ada")
	})
	apptest.Step(t, "image note", func(t *testing.T) {
		b.Publish(t, srv, "A post with a picture", "Look: ![a red door](https://tracker.example/door.jpg) here.")
		b.WantText(t, "[image: a red door — images are not shown]")
		style := apptest.BrowserEval[[]string](t, b, `(() => {
			const s = getComputedStyle(document.querySelector(".content .md-image"));
			const body = getComputedStyle(document.querySelector(".content"));
			return [s.fontStyle, s.borderTopStyle, s.borderTopWidth, s.color, body.color];
		})()`)
		if style[0] != "italic" || style[1] != "dashed" || style[2] == "0px" || style[3] == style[4] {
			t.Errorf("the image note is not styled as a note: font-style %s, border %s %s, colour %s (text %s)", style[0], style[1], style[2], style[3], style[4])
		}
		if n := b.Count(t, `head link[rel=alternate][type="application/atom+xml"][href="/feed.xml"]`); n != 1 {
			t.Errorf("%d feed links in the head, want 1", n)
		}
	})
	apptest.Step(t, "feed opens", func(t *testing.T) {
		b.Navigate(t, srv.URL+"/feed.xml")
		b.WantText(t, "A post with a picture")
	})
}
