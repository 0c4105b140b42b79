package api

import (
	"context"
	_ "embed"
	"net/http"
	"time"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz reports each dependency as "up" or "down"; the reason stays
// in the log, since a driver's message can name hosts and users.
func (d *Deps) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{}
		status, code := "ready", http.StatusOK
		for name, err := range d.Ready(ctx) {
			checks[name] = "up"
			if err != nil {
				checks[name] = "down"
				status, code = "unavailable", http.StatusServiceUnavailable
				d.Log.WarnContext(ctx, "readiness check failed", "check", name, "error", err)
			}
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": checks})
	})
}

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPIDocument returns the OpenAPI 3.1 document of this API.
func OpenAPIDocument() []byte { return openAPIDoc }

func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(openAPIDoc) // fails only if the client went away
	})
}
