package blog

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in the API layer.
const (
	ECONFLICT     = "conflict"     // a unique value (username) is taken
	EFORBIDDEN    = "forbidden"    // the actor may not do this to this resource
	EINTERNAL     = "internal"     // anything unexpected; never shown in detail
	EINVALID      = "invalid"      // input failed validation
	ENOTFOUND     = "not_found"    // the resource does not exist
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EUNAVAILABLE  = "unavailable"  // a dependency is down or overloaded; try later
	ENOSPACE      = "no_space"     // the store is out of disk space; nothing was saved
)

// Error is a domain error whose Message is safe to show to the client.
// Anything that is not an *Error is internal and is shown only as a generic
// message with a request ID.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("blog error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL
// if there is none. A nil error has no code.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic message for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}
