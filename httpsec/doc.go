// Package httpsec is security middleware for net/http servers, written
// against the Go standard library only so that any Go application can import
// it without pulling in dependencies.
//
// It is the Go counterpart of the Express.js stack the Palisade tutorial
// builds on (helmet, express-rate-limit, a request-id and an error handler):
//
//   - [Chain] composes [Middleware] values in reading order.
//   - [SecureHeaders] sets helmet 8's default response headers
//     (Content-Security-Policy, X-Frame-Options and friends) and optionally
//     Strict-Transport-Security.
//   - [AllowedHosts] answers 421 to requests for host names the server
//     doesn't serve, against DNS rebinding.
//   - [ClientIP] works out who the client is, believing X-Forwarded-For (or
//     Forwarded) and X-Forwarded-Proto only from trusted proxies; [RateKey] turns that
//     address into a rate-limit key that groups IPv6 subscribers by /56.
//   - [Limiter] is the rate-limit store seam; [MemoryLimiter] is a bounded,
//     sharded, fixed-window in-memory store and [RateLimit] is the middleware
//     that consults a Limiter and sets the IETF draft-8 RateLimit headers.
//   - [RequestID] tags each request with a random ID for logs.
//   - [Recover] turns a handler panic into a 500 response instead of a
//     crashed connection.
//
// # Ordering
//
// Middleware order matters. The recommended order, outermost first, is:
//
//	Chain(h,
//		RequestID(),          // first, so every log line (even a panic's) has an ID
//		Recover(onPanic),     // catches panics from everything inside it
//		SecureHeaders(opts),  // before the limiter, so 429s carry the headers too
//		AllowedHosts(hosts),  // after SecureHeaders, so 421s carry them; before anything that counts
//		RateLimit(rlOpts),    // refuse floods before any real work is done
//	)
//
// SecureHeaders sets its headers before calling the next handler, so a
// handler can still override one (for example the CSP of a JSON endpoint,
// see [APICSP]) with w.Header().Set.
package httpsec
