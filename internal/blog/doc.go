// Package blog holds Palisade's domain: users and posts, the rules their
// fields must follow, the storage contracts every database implements, and
// the error codes that tell a caller what went wrong without leaking how.
//
// It depends on nothing but the standard library and golang.org/x/text, so
// every other package (stores, HTTP layers, commands) can import it.
package blog
