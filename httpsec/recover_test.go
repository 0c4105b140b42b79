package httpsec

import (
	"bytes"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecover(t *testing.T) {
	tests := []struct {
		name       string
		useDefault bool // pass a nil onPanic
		panicWith  any  // nil means no panic
		wantCalled bool
		wantStatus int
		wantLog    string // substring of the default handler's log
	}{
		{name: "no panic", wantStatus: http.StatusOK},
		{name: "string panic", panicWith: "boom", wantCalled: true, wantStatus: 500},
		{name: "error panic", panicWith: errors.New("boom"), wantCalled: true, wantStatus: 500},
		{name: "default handler writes 500 and logs", useDefault: true, panicWith: "kaboom", wantStatus: 500, wantLog: "kaboom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				called bool
				gotV   any
				stack  []byte
				logged bytes.Buffer
			)
			onPanic := func(w http.ResponseWriter, _ *http.Request, v any, s []byte) {
				called, gotV, stack = true, v, s
				w.WriteHeader(http.StatusInternalServerError)
			}
			if tt.useDefault {
				onPanic = nil
				prev := log.Writer()
				log.SetOutput(&logged)
				t.Cleanup(func() { log.SetOutput(prev) })
			}
			h := Recover(onPanic)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				if tt.panicWith != nil {
					panic(tt.panicWith)
				}
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if called != tt.wantCalled {
				t.Fatalf("onPanic called = %v, want %v", called, tt.wantCalled)
			}
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if called {
				if gotV != tt.panicWith {
					t.Errorf("value %v, want %v", gotV, tt.panicWith)
				}
				if !strings.Contains(string(stack), "recover_test.go") {
					t.Errorf("stack does not show the panicking handler:\n%s", stack)
				}
			}
			if tt.wantLog != "" && !strings.Contains(logged.String(), tt.wantLog) {
				t.Errorf("log %q does not mention %q", logged.String(), tt.wantLog)
			}
		})
	}
}

func TestRecoverRepanicsAbortHandler(t *testing.T) {
	tests := []struct {
		name       string
		useDefault bool
	}{
		{name: "custom handler"},
		{name: "default handler", useDefault: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			onPanic := func(http.ResponseWriter, *http.Request, any, []byte) { called = true }
			if tt.useDefault {
				onPanic = nil
			}
			h := Recover(onPanic)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				panic(http.ErrAbortHandler)
			}))
			defer func() {
				if got := recover(); got != http.ErrAbortHandler {
					t.Errorf("recovered %v, want ErrAbortHandler re-panicked", got)
				}
				if called {
					t.Error("onPanic was called for ErrAbortHandler")
				}
			}()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		})
	}
}
