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

// TestServePrintsSetupLinkOnce: a fresh instance prints the setup link
// once on the console, as a plain line outside the log and whatever the
// log level; the log says only that a link was printed. Claiming it
// through the website writes the token nowhere else (the access log
// records no query string); once an admin exists, a restart prints no
// link.
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
	if !strings.Contains(logRecords(logs.String()), "setup link was printed to the console") {
		t.Fatalf("the log does not say that a setup link was printed:\n%s", logs)
	}

	web := apptest.NewClient(t, base)
	web.Page(t, "/setup?token=wrong").Want(t, http.StatusForbidden)
	p := web.Submit(t, u.RequestURI(), "/setup", url.Values{"token": {token}, "username": {"owner"}, "password": {apptest.Password}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("claim: status %d\n%s", p.Status, p.Body)
	}
	// Signed in, and (PALISADE_REQUIRE_2FA=admins by default) held on the
	// account page until a second factor is set up.
	web.Page(t, "/").Want(t, http.StatusSeeOther)
	if acct := web.Page(t, "/account").Want(t, http.StatusOK); !strings.Contains(acct.Text(), "owner") || !strings.Contains(acct.Text(), "Two-factor sign-in is required") {
		t.Fatalf("the owner is not signed in and asked for a second factor:\n%s", acct.Body)
	}
	// The link is spent, for anyone.
	apptest.NewClient(t, base).Page(t, u.RequestURI()).Want(t, http.StatusNotFound)
	stopServe(t, stop)

	if n := strings.Count(logs.String(), token); n != 1 {
		t.Fatalf("the token appears %d times on the console, want once (the setup line):\n%s", n, logs)
	}
	if strings.Contains(logRecords(logs.String()), token) {
		t.Fatalf("the token is in a log record:\n%s", logs)
	}

	_, stop, logs = startServe(t, addr, env)
	stopServe(t, stop)
	if strings.Contains(logs.String(), "/setup?token=") || strings.Contains(logs.String(), "setup link") {
		t.Fatalf("an instance with an admin printed a setup link:\n%s", logs)
	}
}

// TestServePrintsSetupLinkAtAnyLogLevel: with the log set to errors only,
// in either format, a fresh instance still prints its setup link (a
// production instance once printed nothing), and the log carries no
// token.
func TestServePrintsSetupLinkAtAnyLogLevel(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			env := map[string]string{"PALISADE_DATA_DIR": t.TempDir(), "PALISADE_LOG_FORMAT": format, "PALISADE_LOG_LEVEL": "error"}
			_, stop, logs := startServe(t, apptest.FreeAddr(t), env)
			stopServe(t, stop)
			link := setupLink(t, logs.String())
			if strings.Count(logs.String(), link) != 1 {
				t.Fatalf("the link appears %d times, want once:\n%s", strings.Count(logs.String(), link), logs)
			}
		})
	}
}

// setupLink finds the one console line that carries the setup link: a
// plain line of its own, not a log record.
func setupLink(t *testing.T, console string) string {
	t.Helper()
	var found []string
	for _, line := range strings.Split(console, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "http") && strings.Contains(line, "/setup?token=") {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d setup lines, want 1:\n%s", len(found), console)
	}
	return found[0]
}

// logRecords keeps the log records of serve's console (JSON objects, or
// text lines starting "time="), leaving out the plain setup lines.
func logRecords(console string) string {
	var b strings.Builder
	for _, line := range strings.Split(console, "\n") {
		if json.Valid([]byte(line)) || strings.HasPrefix(line, "time=") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
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
		// Admins must set up a second factor first (the default policy).
		b.WantText(t, "Two-factor sign-in is required for this account")
	})
	apptest.Step(t, "the link is spent", func(t *testing.T) {
		b.ClickAndWait(t, `form[action="/logout"] button`)
		// The answer is a 404 page, which Chromium logs as a failed load.
		b.AllowLogError(func(e *cdplog.Entry) bool {
			return e.Source == cdplog.EntrySourceNetwork && strings.Contains(e.Text, "status of 404") && e.URL == link
		})
		b.Navigate(t, link)
		b.WantText(t, "There is no page at this address.")
	})
}
