package httpsec

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
)

type ctxKey string

func TestRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string // X-Request-Id sent by the client
	}{
		{name: "fresh id"},
		{name: "client id ignored", incoming: "attacker-chosen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := RequestID()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				seen = RequestIDFrom(r.Context())
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.incoming != "" {
				r.Header.Set("X-Request-Id", tt.incoming)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if len(seen) != 32 {
				t.Fatalf("id %q: want 32 hex digits", seen)
			}
			if _, err := hex.DecodeString(seen); err != nil {
				t.Errorf("id %q is not hex: %v", seen, err)
			}
			if seen == tt.incoming {
				t.Error("client-chosen id was used")
			}
			if got := w.Header().Get("X-Request-Id"); got != seen {
				t.Errorf("header %q, context %q", got, seen)
			}
		})
	}
}

func TestRequestIDUnique(t *testing.T) {
	h := RequestID()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for range 1000 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		id := w.Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestRequestIDFrom(t *testing.T) {
	withID := func() context.Context {
		var ctx context.Context
		RequestID()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			ctx = r.Context()
		})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		return ctx
	}
	tests := []struct {
		name   string
		ctx    func() context.Context
		wantID bool
	}{
		{name: "none", ctx: context.Background, wantID: false},
		{name: "set", ctx: withID, wantID: true},
		{name: "derived context", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.WithValue(withID(), ctxKey("other"), 1))
			t.Cleanup(cancel)
			return ctx
		}, wantID: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RequestIDFrom(tt.ctx()); (got != "") != tt.wantID {
				t.Errorf("RequestIDFrom = %q, want id: %v", got, tt.wantID)
			}
		})
	}
}

// TestRequestIDKeepsParentValues checks the custom context node still
// answers for values and cancellation set by outer layers.
func TestRequestIDKeepsParentValues(t *testing.T) {
	tests := []struct {
		name string
		key  ctxKey
		want any
	}{
		{name: "parent value visible", key: "user", want: "alice"},
		{name: "missing value nil", key: "nope", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey("user"), "alice"))
			var got any
			var done <-chan struct{}
			RequestID()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got = r.Context().Value(tt.key)
				done = r.Context().Done()
			})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(parent))
			if got != tt.want {
				t.Errorf("Value(%q) = %v, want %v", tt.key, got, tt.want)
			}
			cancel()
			<-done // would hang if cancellation didn't propagate
		})
	}
}
