package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// fillable is a store whose size can be capped for real (SQLite's
// max_page_count): writes beyond it fail as on a full disk.
type fillable interface {
	SetMaxPages(ctx context.Context, n int64) error
}

// TestDiskFull fills the database for real: writes answer 507 with
// Retry-After (not a bare 500), nothing is stored, the operator's log has
// one line for the whole storm, and /readyz says not ready until there is
// room again.
func TestDiskFull(t *testing.T) {
	ts := newServer(t, nil)
	store, ok := ts.Store.(fillable)
	if !ok {
		t.Fatalf("the test server's store (%T) cannot be filled", ts.Store)
	}
	v := oaNewValidator(t, ts)
	token := ts.SignUp(t, "alice")
	ts.createPost(t, token, "Before", "Written while there was room.")

	// Cap the database at its current size (SQLite raises a lower limit
	// to the pages in use).
	if err := store.SetMaxPages(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	big := map[string]string{"title": "No room", "content": strings.Repeat("Every page needs room. ", 3000)}
	for range 5 {
		r := v.exchange(t, request{Method: http.MethodPost, Path: "/posts", Token: token, Body: big}, true, http.StatusInsufficientStorage)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("507 without Retry-After")
		}
		if strings.Contains(string(r.Body), "SQLITE") || strings.Contains(string(r.Body), "disk is full") {
			t.Errorf("507 body shows the driver's error: %s", r.Body)
		}
	}
	var list []struct{ Title string }
	ts.Get(t, "/posts", "").JSON(t, &list)
	if len(list) != 1 || list[0].Title != "Before" {
		t.Errorf("posts after the failed writes: %+v, want only the first", list)
	}
	if n := strings.Count(ts.Logs.String(), "storage full"); n != 1 {
		t.Errorf("%d log lines about the full disk for 5 failed writes, want 1", n)
	}
	r := v.exchange(t, request{Method: http.MethodGet, Path: "/readyz"}, true, http.StatusServiceUnavailable)
	if !strings.Contains(string(r.Body), `"database":"down"`) {
		t.Errorf("readyz while full: %s", r.Body)
	}

	// Space is freed: readiness sees it, and writes work again.
	if err := store.SetMaxPages(t.Context(), 1<<30); err != nil {
		t.Fatal(err)
	}
	v.exchange(t, request{Method: http.MethodGet, Path: "/readyz"}, true, http.StatusOK)
	v.exchange(t, request{Method: http.MethodPost, Path: "/posts", Token: token, Body: big}, true, http.StatusCreated)
}

// exerciseDiskFull fills v's server and gives every documented 507: a
// post, an edit, a registration and a sign-out that find no room.
func exerciseDiskFull(t *testing.T, v *oaValidator) {
	t.Helper()
	ts := v.ts
	store, ok := ts.Store.(fillable)
	if !ok {
		t.Fatalf("the test server's store (%T) cannot be filled", ts.Store)
	}
	token := ts.SignUp(t, "alice")
	p := ts.createPost(t, token, "Small", "Small enough to grow later.")
	if err := store.SetMaxPages(t.Context(), 1); err != nil { // its current size
		t.Fatal(err)
	}
	big := strings.Repeat("Every page needs room. ", 3000)
	v.exchange(t, request{Method: http.MethodPost, Path: "/posts", Token: token,
		Body: map[string]string{"title": "No room", "content": big}}, true, http.StatusInsufficientStorage)
	v.exchange(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: token,
		Body: map[string]string{"content": big}}, true, http.StatusInsufficientStorage)

	// Small rows fit in the free room of pages already there, until they
	// don't: keep going until one is refused (a 16 KiB page holds well
	// under 200 of either).
	refused := func(send func(i int) *response) {
		t.Helper()
		for i := range 1000 {
			r := send(i)
			if r.Status == http.StatusInsufficientStorage {
				return
			}
		}
		t.Fatal("1000 small writes fitted in a full database")
	}
	refused(func(i int) *response {
		return v.exchange(t, request{Method: http.MethodPost, Path: "/auth/register",
			Body: map[string]string{"username": fmt.Sprintf("filler%05d", i), "password": testPassword}}, true, 0)
	})
	refused(func(int) *response {
		return v.exchange(t, request{Method: http.MethodPost, Path: "/auth/logout", Token: ts.Login(t, "alice")}, true, 0)
	})
}
