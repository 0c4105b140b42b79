package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"

	"github.com/palisade-blog/palisade/internal/apptest"
)

// TestServePrintsSetupLinkOnce: a fresh instance prints one console line
// with the setup link; claiming it through the website writes the token
// nowhere else in the log (the access log records no query string); once
// an admin exists, a restart prints no link.
func TestServePrintsSetupLinkOnce(t *testing.T) {
	dir := t.TempDir()
	addr := apptest.FreeAddr(t)
	env := map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_LOG_FORMAT": "json", "PALISADE_LOG_LEVEL": "debug"}
	base, stop, logs := startServe(t, addr, env)

	link := setupLink(t, logs.String())
	u, err := url.Parse(link)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != base+"/setup" {
		t.Fatalf("setup link %q is not %s/setup?token=…", link, base)
	}
	token := u.Query().Get("token")
	if len(token) != 43 {
		t.Fatalf("token %q is not 32 bytes of base64url", token)
	}

	web := apptest.NewClient(t, base)
	web.Page(t, "/setup?token=wrong").Want(t, http.StatusForbidden)
	p := web.Submit(t, u.RequestURI(), "/setup", url.Values{"token": {token}, "username": {"owner"}, "password": {apptest.Password}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("claim: status %d\n%s", p.Status, p.Body)
	}
	if home := web.Page(t, "/").Want(t, http.StatusOK); !strings.Contains(home.Text(), "owner") {
		t.Fatalf("the owner is not signed in:\n%s", home.Body)
	}
	web.Page(t, u.RequestURI()).Want(t, http.StatusNotFound)
	stopServe(t, stop)

	if n := strings.Count(logs.String(), token); n != 1 {
		t.Fatalf("the token appears %d times in the log, want once (the console line):\n%s", n, logs)
	}

	_, stop, logs = startServe(t, addr, env)
	stopServe(t, stop)
	if strings.Contains(logs.String(), "setupLink") {
		t.Fatalf("an instance with an admin printed a setup link:\n%s", logs)
	}
}

// setupLink finds the one log line that carries the setup link.
func setupLink(t *testing.T, logs string) string {
	t.Helper()
	var found []string
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ SetupLink string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.SetupLink != "" {
			found = append(found, rec.SetupLink)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d setup lines, want 1:\n%s", len(found), logs)
	}
	return found[0]
}

// TestBrowserSetupFlow: the owner of a fresh instance reads the setup
// link on serve's console, opens it in a browser, fills in the form and
// is signed in as the admin; the link then leads nowhere.
func TestBrowserSetupFlow(t *testing.T) {
	b := apptest.NewBrowser(t)
	dir := t.TempDir()
	env := map[string]string{"PALISADE_DATA_DIR": dir, "PALISADE_LOG_FORMAT": "json"}
	_, stop, logs := startServe(t, apptest.FreeAddr(t), env)
	defer stopServe(t, stop)
	link := setupLink(t, logs.String())

	apptest.Step(t, "open the link", func(t *testing.T) {
		b.Navigate(t, link)
		b.WantText(t, "Set up this blog", "Create the admin account")
	})
	apptest.Step(t, "create the admin account", func(t *testing.T) {
		b.Fill(t, "username", "owner")
		b.Fill(t, "password", apptest.Password)
		b.Submit(t)
		b.WantText(t, "Signed in as owner", "Sign out")
	})
	apptest.Step(t, "the link is spent", func(t *testing.T) {
		// The answer is a 404 page, which Chromium logs as a failed load.
		b.AllowLogError(func(e *cdplog.Entry) bool {
			return e.Source == cdplog.EntrySourceNetwork && strings.Contains(e.Text, "status of 404") && e.URL == link
		})
		b.Navigate(t, link)
		b.WantText(t, "There is no page at this address.")
	})
}
