package logging

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/palisade-blog/palisade/httpsec"
)

// Middleware logs one line per request: method, path (never the query
// string, which may carry a cursor today and something secret tomorrow),
// status, bytes, duration, request ID, client and user. It must run after
// httpsec.RequestID.
func Middleware(log *slog.Logger, clientIP *httpsec.ClientIP) httpsec.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			e := &entry{requestID: httpsec.RequestIDFrom(r.Context())}
			if addr := clientIP.Addr(r); addr.IsValid() {
				e.client = addr.String()
			}
			rec := &recorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), entryKey{}, e)))
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("requestId", e.requestID),
				slog.String("client", e.client),
				slog.String("user", e.user),
			)
		})
	}
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
