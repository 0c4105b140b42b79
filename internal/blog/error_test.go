package blog

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCodeAndMessage(t *testing.T) {
	notFound := Errorf(ENOTFOUND, "Post %s not found", "abc")
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"direct", notFound, ENOTFOUND, "Post abc not found"},
		{"wrapped once", fmt.Errorf("get post: %w", notFound), ENOTFOUND, "Post abc not found"},
		{"wrapped twice", fmt.Errorf("handler: %w", fmt.Errorf("store: %w", notFound)), ENOTFOUND, "Post abc not found"},
		{"joined", errors.Join(errors.New("other"), Errorf(ECONFLICT, "Username taken")), ECONFLICT, "Username taken"},
		{"first in chain wins", fmt.Errorf("%w", &Error{Code: EFORBIDDEN, Message: "No"}), EFORBIDDEN, "No"},
		{"plain error", errors.New("database is locked: /var/db/secret.sqlite"), EINTERNAL, "Internal error."},
		{"wrapped plain error", fmt.Errorf("query: %w", errors.New("syntax error near DROP")), EINTERNAL, "Internal error."},
		{"plain wrap of Error text is not an Error", fmt.Errorf("x: %v", notFound), EINTERNAL, "Internal error."},
		{"validation error is internal to ErrorCode", &ValidationError{}, EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	err := Errorf(EINVALID, "Bad %d", 7)
	if err.Code != EINVALID || err.Message != "Bad 7" {
		t.Errorf("Errorf = %+v", *err)
	}
	if want := "blog error: code=invalid message=Bad 7"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}
