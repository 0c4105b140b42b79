package web_test

// The harness of the browser tests: it finds Chromium, starts it headless
// with a fresh profile, and records everything a page says about itself
// (dialogs, console calls, exceptions, browser log entries such as CSP
// violations) so that each test can assert at the end that the site stayed
// silent.

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

	"github.com/palisade-blog/palisade/internal/apptest"
)

const (
	// chromeTimeout bounds a whole browser test, browser included. The
	// bounds only catch a hang; a test that passes takes seconds. They are
	// generous because CI runs Chromium beside the race-detected tests of
	// every other package on two cores.
	chromeTimeout = 180 * time.Second
	// chromeStepTimeout bounds one action, so that a click that navigates
	// nowhere fails the step instead of eating the whole budget.
	chromeStepTimeout = 45 * time.Second
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

// chromeBrowser is one headless Chromium with one tab, and the record of what
// its pages reported.
type chromeBrowser struct {
	ctx    context.Context
	stderr chromeOutput

	mu         sync.Mutex
	dialogs    []string
	console    []string // every console API call, "type: text"
	consoleErr []string // console.error and console.assert calls
	exceptions []string
	logEntries []*cdplog.Entry
	documents  []chromeDoc
	allowed    []func(*cdplog.Entry) bool

	// Form posts: their URLs in order, and the headers as sent on the
	// wire (with cookies), which arrive in a separate event.
	postIDs     []cdpnetwork.RequestID
	postURLs    map[cdpnetwork.RequestID]string
	wireHeaders map[cdpnetwork.RequestID]cdpnetwork.Headers
}

// chromePost is a POST request that a page sent.
type chromePost struct {
	URL     string
	Headers map[string]string // lower-case names; empty if not seen yet
}

// chromeDoc is the response to a page (not a sub-resource) load.
type chromeDoc struct {
	URL    string
	Status int64
}

// newChrome starts Chromium for t. At the end of the test it asserts that
// no dialog opened and no page logged an error, a CSP violation or an
// exception; then it closes the browser.
func newChrome(t *testing.T) *chromeBrowser {
	t.Helper()
	exe := chromiumPath(t)
	profile := t.TempDir() // registered first, so removed after Chromium exits

	b := &chromeBrowser{
		postURLs:    map[cdpnetwork.RequestID]string{},
		wireHeaders: map[cdpnetwork.RequestID]cdpnetwork.Headers{},
	}
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), chromeTimeout)
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
		t.Fatalf("start chromium %s: %v\n%s", exe, err, b.stderr.tail(4000))
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
func (b *chromeBrowser) onEvent(ev any) {
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
			b.documents = append(b.documents, chromeDoc{URL: ev.Response.URL, Status: ev.Response.Status})
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

// allowLogError lets the test expect browser log errors that match f, such
// as the "Failed to load resource" line of a page that is meant to answer
// 403. A CSP violation is never allowed.
func (b *chromeBrowser) allowLogError(f func(*cdplog.Entry) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, f)
}

// check fails t for every dialog, console error, exception, CSP violation
// or unexpected browser log error recorded so far.
func (b *chromeBrowser) check(t *testing.T) {
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
		if out := b.stderr.tail(4000); out != "" {
			t.Logf("chromium output (tail):\n%s", out)
		}
	}
}

func (b *chromeBrowser) isAllowed(e *cdplog.Entry) bool {
	for _, f := range b.allowed {
		if f(e) {
			return true
		}
	}
	return false
}

func (b *chromeBrowser) dialogCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.dialogs)
}

// documentsSince returns the page responses recorded after the first n.
func (b *chromeBrowser) documentsSince(n int) []chromeDoc {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromeDoc(nil), b.documents[min(n, len(b.documents)):]...)
}

// postsSince returns the POST requests recorded after the first n.
func (b *chromeBrowser) postsSince(n int) []chromePost {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []chromePost
	for _, id := range b.postIDs[min(n, len(b.postIDs)):] {
		p := chromePost{URL: b.postURLs[id], Headers: map[string]string{}}
		for k, v := range b.wireHeaders[id] {
			p.Headers[strings.ToLower(k)] = fmt.Sprint(v)
		}
		out = append(out, p)
	}
	return out
}

func (b *chromeBrowser) postCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.postIDs)
}

// drain empties the record, and returns the dialogs, console errors,
// exceptions and CSP violations in it; for the harness's own test.
func (b *chromeBrowser) drain() (dialogs, consoleErrs, exceptions, csp []string) {
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

func (b *chromeBrowser) documentCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.documents)
}

// do runs steps with the step timeout.
func (b *chromeBrowser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// navigate loads url and waits for the page.
func (b *chromeBrowser) navigate(t *testing.T, url string) {
	t.Helper()
	b.do(t, "navigate to "+url, chromedp.Navigate(url))
}

// clickAndWait clicks the element that css selects, waits for the page that
// the click loads and returns its HTTP status (after redirects).
func (b *chromeBrowser) clickAndWait(t *testing.T, css string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("click %s and wait for the next page: %v (page now: %q)", css, err, b.location(t))
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// submit clicks the submit button of the page's form (not Delete) and checks that
// the resulting page answered 200.
func (b *chromeBrowser) submit(t *testing.T) {
	t.Helper()
	if status := b.clickAndWait(t, `main form.stacked button[type=submit]`); status != 200 {
		t.Fatalf("submitting the form gave HTTP %d; page: %s", status, b.text(t))
	}
}

// fill types value into the field with the id, replacing what it held, as
// a person would (key by key).
func (b *chromeBrowser) fill(t *testing.T, id, value string) {
	t.Helper()
	b.do(t, "type into #"+id,
		// chromedp's Clear fails on an empty textarea (no text node) and
		// SetValue(sel, "") on any field (the empty argument arrives as
		// undefined), so empty the field by script, then type.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.getElementById(%q).value = ''", id)),
		chromedp.SendKeys(chromedp.ID(id), value),
	)
}

// evaluate runs a JavaScript expression in the page (through DevTools, so
// the page's CSP does not apply to it) and returns its value.
func chromeEval[T any](t *testing.T, b *chromeBrowser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the visible text of the page, as a person reads it.
func (b *chromeBrowser) text(t *testing.T) string {
	t.Helper()
	return chromeEval[string](t, b, `document.body ? document.body.innerText : ""`)
}

func (b *chromeBrowser) location(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// textContent is the textContent of the first element that css selects.
func (b *chromeBrowser) textContent(t *testing.T, css string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read the text of %s: %v", css, err)
	}
	return s
}

// count is the number of elements that css selects (it does not wait).
func (b *chromeBrowser) count(t *testing.T, css string) int {
	t.Helper()
	return chromeEval[int](t, b, fmt.Sprintf("document.querySelectorAll(%q).length", css))
}

// wantText checks that the page shows every one of wants.
func (b *chromeBrowser) wantText(t *testing.T, wants ...string) {
	t.Helper()
	got := b.text(t)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("page %s does not show %q; it shows:\n%s", b.location(t), w, got)
		}
	}
}

// wantNoText checks that the page shows none of unwanted.
func (b *chromeBrowser) wantNoText(t *testing.T, unwanted ...string) {
	t.Helper()
	got := b.text(t)
	for _, u := range unwanted {
		if strings.Contains(got, u) {
			t.Errorf("page %s shows %q, and should not; it shows:\n%s", b.location(t), u, got)
		}
	}
}

// wantLocation checks the URL of the page.
func (b *chromeBrowser) wantLocation(t *testing.T, want string) {
	t.Helper()
	if got := b.location(t); got != want {
		t.Errorf("page is %s, want %s", got, want)
	}
}

// waitForPage waits until the tab shows a fully loaded document whose URL
// starts with prefix; for navigations that a page starts by itself.
func (b *chromeBrowser) waitForPage(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.Now().Add(chromeStepTimeout)
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
	t.Fatalf("no loaded page under %s after %v; last seen: %s", prefix, chromeStepTimeout, last)
}

// step runs fn as the subtest name and stops the test when it fails, since
// every later step builds on it.
func chromeStep(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}

// register creates an account through the registration form; the browser
// is then signed in as username.
func (b *chromeBrowser) register(t *testing.T, srv *apptest.Server, username string) {
	t.Helper()
	b.navigate(t, srv.URL+"/register")
	b.fill(t, "username", username)
	b.fill(t, "password", apptest.Password)
	b.submit(t)
	b.wantLocation(t, srv.URL+"/")
	b.wantText(t, "Signed in as "+username)
}

// publish writes a post through the Write form and returns the URL of the
// post's page, where the browser now is.
func (b *chromeBrowser) publish(t *testing.T, srv *apptest.Server, title, content string) string {
	t.Helper()
	b.navigate(t, srv.URL+"/write")
	b.wantText(t, "Write a post")
	b.fill(t, "title", title)
	b.fill(t, "content", content)
	b.submit(t)
	loc := b.location(t)
	if !strings.HasPrefix(loc, srv.URL+"/post/") {
		t.Fatalf("after publishing, the page is %s, want a post page; it shows:\n%s", loc, b.text(t))
	}
	return loc
}

// screenshotDir is $PALISADE_SCREENSHOT_DIR, or a new directory that the
// test leaves behind so that a person can look at the pictures.
func chromeScreenshotDir(t *testing.T) string {
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

// screenshot writes a PNG of the whole page (or only the viewport) to
// dir/name and returns the path.
func (b *chromeBrowser) screenshot(t *testing.T, dir, name string, fullPage bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
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

// chromeOutput collects Chromium's output from the allocator's goroutine.
type chromeOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *chromeOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// tail returns the last n bytes of the output, without the D-Bus noise of
// a machine that has no session bus.
func (l *chromeOutput) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keep []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
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
