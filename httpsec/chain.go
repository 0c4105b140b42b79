package httpsec

import "net/http"

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain wraps h so that m[0] is the outermost middleware (runs first).
//
// Wrapping happens from the last middleware to the first, so the list reads
// in the order requests flow through it.
func Chain(h http.Handler, m ...Middleware) http.Handler {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}
