package web

import "net/http"

// noStore marks a response "Cache-Control: no-store" when it sets a
// cookie, so that no browser or proxy cache keeps one visitor's session
// or CSRF cookie and hands it to the next. Pages that embed a CSRF token
// are marked as they render (see render), and every page of a signed-in
// visitor in loadUser.
//
// It wraps the session middleware, so it sees the session cookie that
// middleware adds just before the status line goes out.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nw := &noStoreWriter{ResponseWriter: w}
		next.ServeHTTP(nw, r)
		if !nw.wroteHeader {
			// Nothing written yet: the server sends the headers after
			// this returns, so marking them now still counts.
			nw.mark()
		}
	})
}

type noStoreWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *noStoreWriter) mark() {
	if len(w.Header().Values("Set-Cookie")) > 0 {
		w.Header().Set("Cache-Control", "no-store")
	}
}

func (w *noStoreWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.wroteHeader = true
		w.mark()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *noStoreWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *noStoreWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
