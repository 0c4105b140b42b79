package httpsec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// headerRequestID is the canonical form of X-Request-Id.
const headerRequestID = "X-Request-Id"

// requestIDKey identifies the request ID in a context.
type requestIDKey struct{}

// requestIDContext carries the ID. It is a small Context of its own rather
// than context.WithValue so that the context node, the ID and the header's
// value slice share one allocation.
type requestIDContext struct {
	context.Context
	id  string
	hdr [1]string
}

// Value returns the node itself for requestIDKey (a pointer, so no
// allocation) and defers to the parent for every other key.
func (c *requestIDContext) Value(key any) any {
	if key == (requestIDKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// RequestID gives each request a random 128-bit ID (hex), available via
// RequestIDFrom(r.Context()) and sent back in the X-Request-Id response
// header. An incoming X-Request-Id is ignored (clients must not choose log
// keys).
func RequestID() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var raw [16]byte
			var text [32]byte
			// crypto/rand.Read never returns an error since Go 1.24.
			_, _ = rand.Read(raw[:])
			hex.Encode(text[:], raw[:])
			c := &requestIDContext{Context: r.Context(), id: string(text[:])}
			c.hdr[0] = c.id
			// The slice has len == cap so Header().Add can't write into c.
			w.Header()[headerRequestID] = c.hdr[:1:1]
			next.ServeHTTP(w, r.WithContext(c))
		})
	}
}

// RequestIDFrom returns the ID RequestID stored in ctx, or "" if none.
func RequestIDFrom(ctx context.Context) string {
	if c, ok := ctx.Value(requestIDKey{}).(*requestIDContext); ok {
		return c.id
	}
	return ""
}
