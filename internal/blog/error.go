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

// The domain's errors, each defined once: every store returns these
// (wrapped with context), so a client sees the same message whichever
// database is behind the server.
var (
	// ErrPostNotFound: no post has this ID.
	ErrPostNotFound = Errorf(ENOTFOUND, "Post not found")
	// ErrUserNotFound: no account has this ID or username.
	ErrUserNotFound = Errorf(ENOTFOUND, "User not found")
	// ErrAuthorNotFound: a new post names an author who does not exist.
	ErrAuthorNotFound = Errorf(ENOTFOUND, "Author not found")
	// ErrNotYourPost: the actor may not change or delete this post (see
	// CheckCanEdit).
	ErrNotYourPost = Errorf(EFORBIDDEN, "You may only change your own posts")
	// ErrInvalidRole: a role that is neither RoleAuthor nor RoleAdmin.
	ErrInvalidRole = Errorf(EINVALID, "Invalid role")
	// ErrInvalidPost: a NewPost or PostUpdate that breaks the rules
	// PostInput.Clean and PostPatch.Clean enforce. It comes wrapped
	// with the *ValidationError that says which field is wrong.
	ErrInvalidPost = Errorf(EINVALID, "Invalid post")
	// ErrStoreUnavailable: the database cannot be reached (or is shutting
	// down); the operation may succeed if retried.
	ErrStoreUnavailable = Errorf(EUNAVAILABLE, "The database is unavailable, please retry")
	// ErrNoSpace: the database's disk is full, so nothing was saved.
	ErrNoSpace = Errorf(ENOSPACE, "The server is out of storage space, so nothing was saved. Please try again later")
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
