package httpsec

import (
	"log"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in next into a call to onPanic (which writes the 500
// response and logs the stack), so one bad request can't take the server
// down. http.ErrAbortHandler is re-panicked as net/http expects.
//
// net/http already survives handler panics, but it does so by dropping the
// connection without a response; Recover lets the client see a proper 500
// and the log get a request-scoped record. If onPanic is nil, a plain-text
// 500 is written and the stack is logged with the log package. onPanic
// cannot undo a response that was already partly written.
func Recover(onPanic func(w http.ResponseWriter, r *http.Request, v any, stack []byte)) Middleware {
	if onPanic == nil {
		onPanic = defaultOnPanic
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				// ErrAbortHandler is how a handler asks net/http to
				// abort the response silently; swallowing it would
				// turn a deliberate abort into a 500.
				if v == http.ErrAbortHandler {
					panic(v)
				}
				onPanic(w, r, v, debug.Stack())
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func defaultOnPanic(w http.ResponseWriter, r *http.Request, v any, stack []byte) {
	log.Printf("httpsec: panic serving %s %s (request %q): %v\n%s", r.Method, r.URL.Path, RequestIDFrom(r.Context()), v, stack)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
