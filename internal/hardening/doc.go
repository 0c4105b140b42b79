// Package hardening holds tests only: Palisade attacked from outside, as
// a whole program. A corpus of malformed input thrown at every route, slow
// clients against the real listener's time-outs, SIGKILL during a write
// load, and a search of the tree and the binary for committed secrets.
// Run them with go test ./internal/hardening/ (-short skips the slow ones).
package hardening
