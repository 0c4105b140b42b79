package server

// RawRequest lets the external tests (package server_test) send a request
// byte for byte with the same helper as the internal ones.
var RawRequest = rawRequest
