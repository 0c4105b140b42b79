package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestDiskFullPage fills the database for real (SQLite's page limit): a
// post written on the website gets a 507 page with Retry-After, not a 500,
// nothing is stored, and the post goes through once there is room.
func TestDiskFullPage(t *testing.T) {
	srv := apptest.Start(t, nil)
	store, ok := srv.Store.(interface {
		SetMaxPages(ctx context.Context, n int64) error
	})
	if !ok {
		t.Fatalf("the test server's store (%T) cannot be filled", srv.Store)
	}
	b := newClient(t, srv)
	register(t, b, "alice")
	form := url.Values{"title": {"No room"}, "content": {strings.Repeat("Every page needs room. ", 3000)}}
	// The form page first: loading it must not need space.
	token := b.CSRFToken(t, "/write")

	if err := store.SetMaxPages(t.Context(), 1); err != nil { // its current size
		t.Fatal(err)
	}
	form.Set("_csrf", token)
	p := b.PostForm(t, "/write", form, nil)
	wantStatus(t, p, http.StatusInsufficientStorage)
	if p.Header.Get("Retry-After") == "" || !strings.Contains(p.Text(), "storage is full") {
		t.Errorf("507 page: Retry-After %q\n%s", p.Header.Get("Retry-After"), p.Text())
	}
	if strings.Contains(p.Text(), "SQLITE") {
		t.Errorf("507 page shows the driver's error:\n%s", p.Text())
	}
	if n := countPosts(t, srv); n != 0 {
		t.Fatalf("%d posts stored by a write that failed", n)
	}

	if err := store.SetMaxPages(t.Context(), 1<<30); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.PostForm(t, "/write", form, nil), http.StatusSeeOther)
	if n := countPosts(t, srv); n != 1 {
		t.Fatalf("%d posts after room was made, want 1", n)
	}
}

// TestDiskFullSignIn fills the database until signing in, which saves a
// session, finds no room: the visitor gets the 507 page, not a 503 or 500.
func TestDiskFullSignIn(t *testing.T) {
	srv := apptest.Start(t, nil)
	store, ok := srv.Store.(interface {
		SetMaxPages(ctx context.Context, n int64) error
	})
	if !ok {
		t.Fatalf("the test server's store (%T) cannot be filled", srv.Store)
	}
	register(t, newClient(t, srv), "alice")
	if err := store.SetMaxPages(t.Context(), 1); err != nil { // its current size
		t.Fatal(err)
	}
	// Each sign-in stores a small session; the pages already there have
	// room for some.
	for range 1000 {
		p := newClient(t, srv).Submit(t, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}})
		if p.Status == http.StatusSeeOther {
			continue
		}
		wantStatus(t, p, http.StatusInsufficientStorage)
		if p.Header.Get("Retry-After") == "" || !strings.Contains(p.Text(), "storage is full") {
			t.Fatalf("sign-in on a full disk: Retry-After %q\n%s", p.Header.Get("Retry-After"), p.Text())
		}
		return
	}
	t.Fatal("1000 sessions fitted in a full database")
}
