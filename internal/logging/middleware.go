package logging

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
)

// Middleware logs one line per request: method, path (never the query
// string, which may carry a cursor today and something secret tomorrow),
// status, bytes, durationMicros (microseconds, an integer), request ID,
// client and user. It must run after httpsec.RequestID.
func Middleware(log *slog.Logger, clientIP *httpsec.ClientIP) httpsec.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			// The entry, its context node and the response recorder are one
			// allocation: this runs on every request.
			c := &entryContext{Context: r.Context()}
			e, rec := &c.entry, &c.rec
			e.requestID = httpsec.RequestIDFrom(r.Context())
			if addr := clientIP.Addr(r); addr.IsValid() {
				e.client = addr.String()
			}
			*rec = recorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r.WithContext(c))
			// 503s are load shedding or a dependency outage, logged with
			// their cause already; only other 5xx are errors of ours.
			level := slog.LevelInfo
			switch {
			case rec.status == http.StatusServiceUnavailable:
				level = slog.LevelWarn
			case rec.status >= 500 && rec.status != StatusClientClosed:
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int64("bytes", rec.bytes),
				slog.Int64(DurationKey, time.Since(start).Microseconds()),
				slog.String("requestId", e.requestID),
				slog.String("client", e.client),
				slog.String("user", e.user),
			)
		})
	}
}

// entryContext carries the request's log entry (see entryFrom) and holds
// its recorder.
type entryContext struct {
	context.Context
	entry entry
	rec   recorder
}

// Value returns the entry for entryKey and defers to the parent otherwise.
func (c *entryContext) Value(key any) any {
	if key == (entryKey{}) {
		return &c.entry
	}
	return c.Context.Value(key)
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (Flush,
// deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// StatusClientClosed is logged for a request whose client went away before
// the answer was ready (nginx's 499): nothing is sent, and it is not a
// server error.
const StatusClientClosed = 499

// ClientGone reports whether err only says the client disconnected (the
// request's context was cancelled), so a handler can skip the 500 and the
// error log line.
func ClientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil && errors.Is(err, context.Canceled)
}

// DurationKey names the request line's duration, in microseconds: a unit
// in the name, since a bare number (slog's JSON writes nanoseconds) left
// readers guessing. An integer, not milliseconds as a float: slog's JSON
// handler encodes a float through encoding/json, an allocation and a
// microsecond or two on every request.
const DurationKey = "durationMicros"
