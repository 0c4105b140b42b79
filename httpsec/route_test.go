package httpsec_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/palisade-blog/palisade/httpsec"
)

func TestAccepts(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"text/html", true},
		{"text/html;q=0.9, application/json", true},
		{"application/xhtml+xml, text/html ; q=1", true},
		{"*/*", false},
		{"text/htmlx", false},
		{"application/json", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", tt.accept)
		if got := httpsec.Accepts(r, "text/html"); got != tt.want {
			t.Errorf("Accepts(%q, text/html) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestAllowedMethods(t *testing.T) {
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux.Handle("GET /posts", ok)
	mux.Handle("POST /posts", ok)
	mux.Handle("DELETE /posts/{id}", ok)
	mux.Handle("/", ok) // a catch-all is not a route
	tests := []struct {
		path string
		want []string
	}{
		{"/posts", []string{"GET", "POST", "HEAD"}},
		{"/posts/1", []string{"DELETE"}},
		{"/nothing", nil},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPut, tt.path, nil)
		if got := httpsec.AllowedMethods(mux, r); !slices.Equal(got, tt.want) {
			t.Errorf("AllowedMethods(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
