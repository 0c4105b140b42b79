package api

import "net/http"

// RegisterRoutes registers the API's routes (over no dependencies) on mux,
// so the OpenAPI test can check which pattern serves each documented
// operation.
func RegisterRoutes(mux *http.ServeMux) { (&Deps{Metrics: http.NotFoundHandler()}).routes(mux) }
