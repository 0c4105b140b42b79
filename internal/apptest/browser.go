package apptest

// The browser harness: it finds Chromium, starts it headless with a fresh
// profile, and records everything a page says about itself (dialogs,
// console calls, exceptions, browser log entries such as CSP violations)
// so that each test can assert at the end that the site stayed silent.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpnetwork "github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const (
	// browserTimeout bounds a whole browser test, browser included. The
	// bounds only catch a hang; a test that passes takes seconds. They are
	// generous because CI runs Chromium beside the race-detected tests of
	// every other package on two cores.
	browserTimeout = 180 * time.Second
	// browserStepTimeout bounds one action, so that a click that navigates
	// nowhere fails the step instead of eating the whole budget.
	browserStepTimeout = 45 * time.Second
)

// chromiumPath returns the browser to drive: $PALISADE_TEST_CHROMIUM,
// /usr/bin/chromium or chromium on PATH. Without one the test is skipped,
// except on CI (CI set), where the browser tests must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	if p := os.Getenv("PALISADE_TEST_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("PALISADE_TEST_CHROMIUM=%q is not an executable: %v", p, err)
		}
		return p
	}
	if _, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("browser tests need chromium on CI, and none was found: install Debian's chromium or set PALISADE_TEST_CHROMIUM")
	}
	t.Skip("browser tests skipped: no chromium found (install Debian's chromium)")
	return ""
}

// Browser is one headless Chromium with one tab, and the record of what
// its pages reported.
type Browser struct {
	ctx    context.Context
	stderr LogBuffer // Chromium's own output, for a failure's log

	mu         sync.Mutex
	dialogs    []string
	console    []string // every console API call, "type: text"
	consoleErr []string // console.error and console.assert calls
	exceptions []string
	logEntries []*cdplog.Entry
	documents  []BrowserDocument
	allowed    []func(*cdplog.Entry) bool

	// Form posts: their URLs in order, and the headers as sent on the
	// wire (with cookies), which arrive in a separate event.
	postIDs     []cdpnetwork.RequestID
	postURLs    map[cdpnetwork.RequestID]string
	wireHeaders map[cdpnetwork.RequestID]cdpnetwork.Headers
}

// BrowserPost is a POST request that a page sent.
type BrowserPost struct {
	URL     string
	Headers map[string]string // lower-case names; empty if not seen yet
}

// BrowserDocument is the response to a page (not a sub-resource) load.
type BrowserDocument struct {
	URL    string
	Status int64
}

// Context is the tab's context, for chromedp calls the harness does not
// wrap (a navigation that should not wait for a load, say). It ends with
// the test.
func (b *Browser) Context() context.Context { return b.ctx }

// NewBrowser starts Chromium for t. At the end of the test it asserts that
// no dialog opened and no page logged an error, a CSP violation or an
// exception; then it closes the browser.
func NewBrowser(t *testing.T) *Browser {
	t.Helper()
	exe := chromiumPath(t)
	profile := t.TempDir() // registered first, so removed after Chromium exits

	b := &Browser{
		postURLs:    map[cdpnetwork.RequestID]string{},
		wireHeaders: map[cdpnetwork.RequestID]cdpnetwork.Headers{},
	}
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancelTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		// This machine has no network: keep Chromium from calling home.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.CombinedOutput(&b.stderr),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.onEvent))
	t.Cleanup(cancelTab)
	b.ctx = ctx

	// The first Do starts the browser, bound to the test's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v\n%s", exe, err, outputTail(b.stderr.String(), 4000))
	}
	// chromedp enables the log domain already; enabling it again is
	// harmless and makes the dependency explicit: CSP violations arrive
	// as Log.entryAdded.
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log domain: %v", err)
	}
	t.Cleanup(func() { b.check(t) }) // runs before the browser closes
	return b
}

// onEvent records the events of the tab. It runs in the tab's read loop:
// it must return fast and must not send a command itself.
func (b *Browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *cdppage.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, fmt.Sprintf("%s %q on %s", ev.Type, ev.Message, ev.URL))
		// An open dialog blocks the page: dismiss it from another
		// goroutine (a command from this one would deadlock). The
		// recorded dialog fails the test, so the result can be ignored.
		go func() {
			_, _ = chromedp.Call(b.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}()
	case *cdpruntime.EventConsoleAPICalled:
		line := fmt.Sprintf("console.%s: %s", ev.Type, chromeRemoteObjectsText(ev.Args))
		b.console = append(b.console, line)
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			b.consoleErr = append(b.consoleErr, line)
		}
	case *cdpruntime.EventExceptionThrown:
		b.exceptions = append(b.exceptions, chromeExceptionText(ev.ExceptionDetails))
	case *cdplog.EventEntryAdded:
		if ev.Entry != nil {
			b.logEntries = append(b.logEntries, ev.Entry)
		}
	case *cdpnetwork.EventRequestWillBeSent:
		if ev.Request != nil && ev.Request.Method == "POST" {
			b.postIDs = append(b.postIDs, ev.RequestID)
			b.postURLs[ev.RequestID] = ev.Request.URL
		}
	case *cdpnetwork.EventRequestWillBeSentExtraInfo:
		b.wireHeaders[ev.RequestID] = ev.Headers
	case *cdpnetwork.EventResponseReceived:
		if ev.Type == cdpnetwork.ResourceTypeDocument && ev.Response != nil {
			b.documents = append(b.documents, BrowserDocument{URL: ev.Response.URL, Status: ev.Response.Status})
		}
	}
}

func chromeRemoteObjectsText(args []*cdpruntime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		default:
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

func chromeExceptionText(d *cdpruntime.ExceptionDetails) string {
	if d == nil {
		return "exception without details"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// chromeIsCSPViolation reports a browser log entry about a Content-Security-Policy
// refusal.
func chromeIsCSPViolation(e *cdplog.Entry) bool {
	return strings.Contains(e.Text, "Content Security Policy") || strings.Contains(e.Text, "Refused to")
}

// chromeIsFaviconFetch reports a network log entry about the browser's own
// request for /favicon.ico.
func chromeIsFaviconFetch(e *cdplog.Entry) bool {
	return e.Source == cdplog.EntrySourceNetwork && strings.HasSuffix(e.URL, "/favicon.ico")
}

// AllowLogError lets the test expect browser log errors that match f, such
// as the "Failed to load resource" line of a page that is meant to answer
// 403. A CSP violation is never allowed.
func (b *Browser) AllowLogError(f func(*cdplog.Entry) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, f)
}

// check fails t for every dialog, console error, exception, CSP violation
// or unexpected browser log error recorded so far.
func (b *Browser) check(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.dialogs {
		t.Errorf("a JavaScript dialog opened: %s", d)
	}
	for _, c := range b.consoleErr {
		t.Errorf("console error: %s", c)
	}
	for _, e := range b.exceptions {
		t.Errorf("uncaught exception: %s", e)
	}
	for _, e := range b.logEntries {
		line := fmt.Sprintf("[%s/%s] %s (%s)", e.Source, e.Level, e.Text, e.URL)
		switch {
		case chromeIsCSPViolation(e):
			t.Errorf("CSP violation: %s", line)
		case e.Level == cdplog.EntryLevelError && chromeIsFaviconFetch(e):
			// The browser fetches the icon on its own, sometimes after
			// the test's server has closed; no page asked for it.
			t.Logf("browser log (favicon): %s", line)
		case e.Level == cdplog.EntryLevelError && !b.isAllowed(e):
			t.Errorf("browser log error: %s", line)
		default:
			t.Logf("browser log: %s", line)
		}
	}
	if len(b.console) > len(b.consoleErr) {
		t.Logf("console calls: %q", b.console)
	}
	if t.Failed() {
		if out := outputTail(b.stderr.String(), 4000); out != "" {
			t.Logf("chromium output (tail):\n%s", out)
		}
	}
}

func (b *Browser) isAllowed(e *cdplog.Entry) bool {
	for _, f := range b.allowed {
		if f(e) {
			return true
		}
	}
	return false
}

// DialogCount is the number of JavaScript dialogs opened so far.
func (b *Browser) DialogCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.dialogs)
}

// DocumentsSince returns the page responses recorded after the first n.
func (b *Browser) DocumentsSince(n int) []BrowserDocument {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BrowserDocument(nil), b.documents[min(n, len(b.documents)):]...)
}

// PostsSince returns the POST requests recorded after the first n.
func (b *Browser) PostsSince(n int) []BrowserPost {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []BrowserPost
	for _, id := range b.postIDs[min(n, len(b.postIDs)):] {
		p := BrowserPost{URL: b.postURLs[id], Headers: map[string]string{}}
		for k, v := range b.wireHeaders[id] {
			p.Headers[strings.ToLower(k)] = fmt.Sprint(v)
		}
		out = append(out, p)
	}
	return out
}

// PostCount is the number of POST requests sent so far; see PostsSince.
func (b *Browser) PostCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.postIDs)
}

// drain empties the record, and returns the dialogs, console errors,
// exceptions and CSP violations in it; for the harness's own test.
func (b *Browser) drain() (dialogs, consoleErrs, exceptions, csp []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.logEntries {
		if chromeIsCSPViolation(e) {
			csp = append(csp, e.Text)
		}
	}
	dialogs, consoleErrs, exceptions = b.dialogs, b.consoleErr, b.exceptions
	b.dialogs, b.console, b.consoleErr, b.exceptions, b.logEntries = nil, nil, nil, nil, nil
	return dialogs, consoleErrs, exceptions, csp
}

// DocumentCount is the number of page responses so far; see
// DocumentsSince.
func (b *Browser) DocumentCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.documents)
}

// Do runs steps with the step timeout.
func (b *Browser) Do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Navigate loads url and waits for the page.
func (b *Browser) Navigate(t *testing.T, url string) {
	t.Helper()
	b.Do(t, "navigate to "+url, chromedp.Navigate(url))
}

// ClickAndWait clicks the element that css selects, waits for the page that
// the click loads and returns its HTTP status (after redirects).
func (b *Browser) ClickAndWait(t *testing.T, css string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("click %s and wait for the next page: %v (page now: %q)", css, err, b.Location(t))
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// Submit clicks the submit button of the page's form (not Delete) and checks that
// the resulting page answered 200.
func (b *Browser) Submit(t *testing.T) {
	t.Helper()
	if status := b.ClickAndWait(t, `main form.stacked button[type=submit]`); status != 200 {
		t.Fatalf("submitting the form gave HTTP %d; page: %s", status, b.Text(t))
	}
}

// Fill types value into the field with the id, replacing what it held, as
// a person would (key by key).
func (b *Browser) Fill(t *testing.T, id, value string) {
	t.Helper()
	b.Do(t, "type into #"+id,
		// chromedp's Clear fails on an empty textarea (no text node) and
		// SetValue(sel, "") on any field (the empty argument arrives as
		// undefined), so empty the field by script, then type.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.getElementById(%q).value = ''", id)),
		chromedp.SendKeys(chromedp.ID(id), value),
	)
}

// BrowserEval runs a JavaScript expression in the page (through DevTools, so
// the page's CSP does not apply to it) and returns its value.
func BrowserEval[T any](t *testing.T, b *Browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Text is the visible text of the page, as a person reads it.
func (b *Browser) Text(t *testing.T) string {
	t.Helper()
	return BrowserEval[string](t, b, `document.body ? document.body.innerText : ""`)
}

// Location is the URL of the page, or a note saying why it is unknown.
func (b *Browser) Location(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// TextContent is the textContent of the first element that css selects.
func (b *Browser) TextContent(t *testing.T, css string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read the text of %s: %v", css, err)
	}
	return s
}

// Count is the number of elements that css selects (it does not wait).
func (b *Browser) Count(t *testing.T, css string) int {
	t.Helper()
	return BrowserEval[int](t, b, fmt.Sprintf("document.querySelectorAll(%q).length", css))
}

// WantText checks that the page shows every one of wants.
func (b *Browser) WantText(t *testing.T, wants ...string) {
	t.Helper()
	got := b.Text(t)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("page %s does not show %q; it shows:\n%s", b.Location(t), w, got)
		}
	}
}

// WantNoText checks that the page shows none of unwanted.
func (b *Browser) WantNoText(t *testing.T, unwanted ...string) {
	t.Helper()
	got := b.Text(t)
	for _, u := range unwanted {
		if strings.Contains(got, u) {
			t.Errorf("page %s shows %q, and should not; it shows:\n%s", b.Location(t), u, got)
		}
	}
}

// WantLocation checks the URL of the page.
func (b *Browser) WantLocation(t *testing.T, want string) {
	t.Helper()
	if got := b.Location(t); got != want {
		t.Errorf("page is %s, want %s", got, want)
	}
}

// WaitForPage waits until the tab shows a fully loaded document whose URL
// starts with prefix; for navigations that a page starts by itself.
func (b *Browser) WaitForPage(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.Now().Add(browserStepTimeout)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		// Errors are expected while a navigation replaces the document.
		st, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[location.href, document.readyState]`))
		cancel()
		if err == nil && len(st) == 2 {
			last = st[0] + " (" + st[1] + ")"
			if strings.HasPrefix(st[0], prefix) && st[1] == "complete" {
				return
			}
		} else if err != nil {
			last = err.Error()
			if errors.Is(err, context.Canceled) && b.ctx.Err() != nil {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no loaded page under %s after %v; last seen: %s", prefix, browserStepTimeout, last)
}

// Step runs fn as the subtest name and stops the test when it fails, since
// every later step builds on it.
func Step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

// Register creates an account through the registration form; the browser
// is then signed in as username.
func (b *Browser) Register(t *testing.T, srv *Server, username string) {
	t.Helper()
	b.Navigate(t, srv.URL+"/register")
	b.Fill(t, "username", username)
	b.Fill(t, "password", Password)
	b.Submit(t)
	b.WantLocation(t, srv.URL+"/")
	b.WantText(t, "Signed in as "+username)
}

// Publish writes a post through the Write form and returns the URL of the
// post's page, where the browser now is.
func (b *Browser) Publish(t *testing.T, srv *Server, title, content string) string {
	t.Helper()
	b.Navigate(t, srv.URL+"/write")
	b.WantText(t, "Write a post")
	b.Fill(t, "title", title)
	b.Fill(t, "content", content)
	b.Submit(t)
	loc := b.Location(t)
	if !strings.HasPrefix(loc, srv.URL+"/post/") {
		t.Fatalf("after publishing, the page is %s, want a post page; it shows:\n%s", loc, b.Text(t))
	}
	return loc
}

// ScreenshotDir is $PALISADE_SCREENSHOT_DIR, or a new directory that the
// test leaves behind so that a person can look at the pictures.
func ScreenshotDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("PALISADE_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "palisade-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot writes a PNG of the whole page (or only the viewport) to
// dir/name and returns the path.
func (b *Browser) Screenshot(t *testing.T, dir, name string, fullPage bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	// FullScreenshot makes a PNG only at quality 100; any other quality
	// gives a JPEG.
	shot := chromedp.FullScreenshot(100)
	if !fullPage {
		shot = chromedp.CaptureScreenshot()
	}
	buf, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(buf, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// outputTail returns the last n bytes of Chromium's output, without the
// D-Bus noise of a machine that has no session bus.
func outputTail(out string, n int) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "dbus") && strings.TrimSpace(line) != "" {
			keep = append(keep, line)
		}
	}
	s := strings.Join(keep, "\n")
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
