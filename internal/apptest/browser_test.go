package apptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestBrowserHarnessCatchesProblems makes sure the checks that every browser
// test ends with can fail: a page that opens a dialog, logs an error, throws
// and breaks its CSP is recorded as doing so.
func TestBrowserHarnessCatchesProblems(t *testing.T) {
	// The server starts before the browser so that it closes after the
	// browser's final check (cleanups run last-in first-out): a favicon
	// request still in flight must not find the port closed.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/csp":
			// Our own policy, and an inline style and script it refuses.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'")
			// Response writes fail only if the browser went away.
			_, _ = io.WriteString(w, `<!doctype html><title>csp</title><p style="color:red">x</p><script>alert("csp")</script>`)
		case "/noisy":
			_, _ = io.WriteString(w, `<!doctype html><title>noisy</title><script>
console.error("an error"); setTimeout(() => { throw new Error("thrown") }, 0); alert("hello")
</script>`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(bad.Close)
	b := NewBrowser(t)

	b.Navigate(t, bad.URL+"/csp")
	b.Navigate(t, bad.URL+"/noisy")
	b.WaitForPage(t, bad.URL+"/noisy")
	deadline := time.Now().Add(browserStepTimeout)
	var dialogs, consoleErrs, exceptions, csp []string
	for time.Now().Before(deadline) {
		d, c, e, v := b.drain()
		dialogs, consoleErrs, exceptions, csp = append(dialogs, d...), append(consoleErrs, c...), append(exceptions, e...), append(csp, v...)
		if len(dialogs) > 0 && len(consoleErrs) > 0 && len(exceptions) > 0 && len(csp) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("recorded: dialogs %q, console errors %q, exceptions %q, CSP violations %q", dialogs, consoleErrs, exceptions, csp)
	if len(dialogs) != 1 {
		t.Errorf("recorded %d dialogs, want 1 (the CSP must block the first alert)", len(dialogs))
	}
	if len(consoleErrs) == 0 {
		t.Error("recorded no console error")
	}
	if len(exceptions) == 0 {
		t.Error("recorded no exception")
	}
	if len(csp) < 2 {
		t.Errorf("recorded %d CSP violations, want 2 (inline style and inline script)", len(csp))
	}
	// The dialog was dismissed, so the page is usable again.
	if got := BrowserEval[string](t, b, `document.title`); got != "noisy" {
		t.Errorf("document.title = %q after the dialog, want noisy", got)
	}
}
