package logging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/httpsec"
)

// serve runs one request through httpsec.RequestID, Middleware and h, and
// returns the response, the parsed log lines and the raw log. h gets the
// logger so that it can log security events.
func serve(t *testing.T, r *http.Request, h func(w http.ResponseWriter, r *http.Request, log *slog.Logger)) (*httptest.ResponseRecorder, []map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo, "json")
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, log) })
	handler := httpsec.RequestID()(Middleware(log, httpsec.NewClientIP(nil))(inner))
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	raw := buf.String()
	return w, jsonLines(t, &buf), raw
}

// lineWithMsg returns the only log line with the message msg.
func lineWithMsg(t *testing.T, lines []map[string]any, msg string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range lines {
		if l["msg"] == msg {
			if found != nil {
				t.Fatalf("more than one %q line: %v", msg, lines)
			}
			found = l
		}
	}
	if found == nil {
		t.Fatalf("no %q line in %v", msg, lines)
	}
	return found
}

func TestMiddlewareSecurityEvent(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/api/auth/login", strings.NewReader(`{}`))
	w, lines, raw := serve(t, r, func(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
		SetUser(r.Context(), "user-123")
		Security(r.Context(), log, "signin_failed",
			slog.String("reason", "bad password"), slog.String("password", secretValue))
		w.WriteHeader(http.StatusUnauthorized)
	})
	requestID := w.Header().Get("X-Request-Id")
	if requestID == "" {
		t.Fatal("no X-Request-Id: RequestID did not run")
	}
	sec := lineWithMsg(t, lines, "security")
	want := map[string]any{
		"level":     "WARN",
		"event":     "signin_failed",
		"requestId": requestID,
		"client":    "192.0.2.1", // httptest.NewRequest's RemoteAddr
		"user":      "user-123",
		"reason":    "bad password",
		"password":  "[redacted]",
	}
	for k, v := range want {
		if sec[k] != v {
			t.Errorf("security line %s = %v, want %v", k, sec[k], v)
		}
	}
	req := lineWithMsg(t, lines, "request")
	if req["requestId"] != requestID || req["user"] != "user-123" || req["client"] != "192.0.2.1" {
		t.Errorf("request line = %v, want the same request ID, user and client", req)
	}
	if strings.Contains(raw, secretValue) {
		t.Errorf("log contains the secret: %s", raw)
	}
}

func TestMiddlewareRequestLine(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/posts?cursor=SECRETISH&token=SECRETISH", nil)
	w, lines, raw := serve(t, r, func(w http.ResponseWriter, r *http.Request, _ *slog.Logger) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	})
	if w.Code != http.StatusTeapot || w.Body.String() != "short and stout" {
		t.Errorf("response = %d %q, want the handler's", w.Code, w.Body.String())
	}
	if strings.Contains(raw, "SECRETISH") || strings.Contains(raw, "cursor=") {
		t.Errorf("log contains the query string: %s", raw)
	}
	req := lineWithMsg(t, lines, "request")
	want := map[string]any{
		"level":     "INFO",
		"method":    "GET",
		"path":      "/posts",
		"status":    float64(http.StatusTeapot),
		"bytes":     float64(len("short and stout")),
		"requestId": w.Header().Get("X-Request-Id"),
		"client":    "192.0.2.1",
		"user":      "",
	}
	for k, v := range want {
		if req[k] != v {
			t.Errorf("request line %s = %v, want %v", k, req[k], v)
		}
	}
	// The unit is in the name and the value is a whole number of
	// microseconds.
	if us, ok := req["durationMicros"].(float64); !ok || us < 0 || us != float64(int64(us)) {
		t.Errorf("request line %v has no durationMicros integer", req)
	}
	if _, ok := req["duration"]; ok {
		t.Errorf("request line %v still has a duration without unit", req)
	}
}

func TestMiddlewareLevels(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantLevel string
	}{
		{"ok", http.StatusOK, "INFO"},
		{"redirect", http.StatusFound, "INFO"},
		{"client error", http.StatusNotFound, "INFO"},
		{"internal error", http.StatusInternalServerError, "ERROR"},
		{"unavailable", http.StatusServiceUnavailable, "WARN"},
		{"client closed", StatusClientClosed, "INFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			_, lines, _ := serve(t, r, func(w http.ResponseWriter, r *http.Request, _ *slog.Logger) {
				w.WriteHeader(tt.status)
			})
			req := lineWithMsg(t, lines, "request")
			if req["level"] != tt.wantLevel || req["status"] != float64(tt.status) {
				t.Errorf("request line level %v status %v, want %s %d", req["level"], req["status"], tt.wantLevel, tt.status)
			}
		})
	}
}

func TestMiddlewareErrorLevelFilteredAtWarn(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelWarn, "json")
	h := httpsec.RequestID()(Middleware(log, httpsec.NewClientIP(nil))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/ok", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/fail", nil))
	m := oneJSONLine(t, &buf)
	if m["path"] != "/fail" || m["level"] != "ERROR" {
		t.Errorf("log line = %v, want only the 502 at ERROR", m)
	}
}

func TestMiddlewarePathNotDecodedIntoQuery(t *testing.T) {
	// An escaped "?" in the path is part of the path, not a query string.
	r := httptest.NewRequest(http.MethodGet, "/posts/abc%3Fx?token=SECRETISH", nil)
	_, lines, raw := serve(t, r, func(http.ResponseWriter, *http.Request, *slog.Logger) {})
	if strings.Contains(raw, "SECRETISH") {
		t.Errorf("log contains the query string: %s", raw)
	}
	if req := lineWithMsg(t, lines, "request"); req["path"] != "/posts/abc?x" {
		t.Errorf("path = %v, want /posts/abc?x", req["path"])
	}
}

func TestRecorder(t *testing.T) {
	tests := []struct {
		name       string
		handler    func(w http.ResponseWriter)
		wantStatus int
		wantBytes  int64
	}{
		{"nothing written", func(w http.ResponseWriter) {}, http.StatusOK, 0},
		{"write without header", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "hello") }, http.StatusOK, 5},
		{"explicit status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot); _, _ = io.WriteString(w, "tea") }, http.StatusTeapot, 3},
		{"first status wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusCreated, 0},
		{"status after write ignored", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, "ab")
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK, 2},
		{"several writes add up", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, "abc")
			_, _ = w.Write([]byte("日本"))
		}, http.StatusOK, 3 + 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			under := httptest.NewRecorder()
			rec := &recorder{ResponseWriter: under, status: http.StatusOK}
			tt.handler(rec)
			if rec.status != tt.wantStatus || rec.bytes != tt.wantBytes {
				t.Errorf("recorder status %d bytes %d, want %d %d", rec.status, rec.bytes, tt.wantStatus, tt.wantBytes)
			}
			if under.Code != tt.wantStatus || int64(under.Body.Len()) != tt.wantBytes {
				t.Errorf("underlying writer got %d and %d bytes, want %d %d", under.Code, under.Body.Len(), tt.wantStatus, tt.wantBytes)
			}
		})
	}
}

func TestRecorderUnwrap(t *testing.T) {
	under := httptest.NewRecorder()
	rec := &recorder{ResponseWriter: under, status: http.StatusOK}
	if rec.Unwrap() != http.ResponseWriter(under) {
		t.Error("Unwrap did not return the underlying writer")
	}
	if err := http.NewResponseController(rec).Flush(); err != nil {
		t.Errorf("Flush through ResponseController: %v", err)
	}
	if !under.Flushed {
		t.Error("underlying writer was not flushed")
	}
}

func TestClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	err := fmt.Errorf("list posts: %w", context.Canceled)
	if ClientGone(r, err) {
		t.Fatal("a cancelled error while the client is still there counted as the client leaving")
	}
	cancel()
	if !ClientGone(r, err) {
		t.Fatal("the client's own disconnect not recognised")
	}
	if ClientGone(r, errors.New("disk full")) {
		t.Fatal("an unrelated error counted as the client leaving")
	}
}
