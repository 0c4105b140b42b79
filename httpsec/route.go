package httpsec

import (
	"net/http"
	"slices"
	"strings"
)

// Accepts reports whether r's Accept header names mediaType itself (a
// wildcard such as */* does not count). Parameters such as q are ignored:
// a browser navigating to a page lists text/html, an API client does not,
// and that is all the caller needs to choose between a page and JSON.
func Accepts(r *http.Request, mediaType string) bool {
	header := r.Header.Get("Accept")
	for len(header) > 0 {
		var part string
		part, header, _ = strings.Cut(header, ",")
		if media, _, _ := strings.Cut(part, ";"); strings.TrimSpace(media) == mediaType {
			return true
		}
	}
	return false
}

// probedMethods are the methods AllowedMethods tries; HEAD follows GET.
var probedMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// AllowedMethods returns the methods for which mux has a route at r's path,
// HEAD included when GET is, for the Allow header of a 405. A catch-all
// registered as "/" is not a route. It is empty when no route has that
// path: the answer is then 404.
func AllowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range probedMethods {
		probe := *r // a shallow copy: the mux only reads the method, host and path
		probe.Method = m
		if _, pattern := mux.Handler(&probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	return allow
}
