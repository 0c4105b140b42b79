package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/palisade-blog/palisade/httpsec"
	"github.com/palisade-blog/palisade/internal/blog"
)

// MaxBodyBytes is the largest request body read: a 100,000-character post
// in 4-byte characters is 400 KB, so 1 MiB is ample and bounds memory.
const MaxBodyBytes = 1 << 20

// writeJSON writes v as the response with status. HTML-significant
// characters are escaped (\u003c), so a JSON body sniffed as HTML by an old
// browser still cannot run script.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded; failing here is a programming
		// error, and the client still gets a well-formed answer.
		status, body = http.StatusInternalServerError, []byte(`{"error":"Internal Server Error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Security-Policy", httpsec.APICSP)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// errorBody is the shape of every non-validation error.
type errorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// validationBody is express-validator's error shape.
type validationBody struct {
	Errors []blog.FieldError `json:"errors"`
}

func fieldError(location, path, msg string) *blog.ValidationError {
	return &blog.ValidationError{Fields: []blog.FieldError{{Type: "field", Path: path, Location: location, Msg: msg}}}
}

// requestError is a problem with the request as a whole (not one field).
type requestError struct {
	status  int
	message string
}

func (e *requestError) Error() string { return e.message }

// decode reads the request body strictly into v: only application/json, at
// most MaxBodyBytes, one JSON object with no unknown fields, no value of the
// wrong type (so {"$gt": ""} never becomes a string or reaches a query),
// nothing after it. The error is a *requestError or a
// *blog.ValidationError, both safe to show.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err)
		}
		return &requestError{http.StatusBadRequest, "Request body must hold exactly one JSON object"}
	}
	return nil
}

// decodeError turns encoding/json's errors into messages that name the
// problem without echoing the input.
func decodeError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{http.StatusRequestEntityTooLarge, "Request body is larger than 1 MiB"}
	case errors.Is(err, io.EOF):
		return &requestError{http.StatusBadRequest, "Request body is empty"}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &requestError{http.StatusBadRequest, "Request body is not valid JSON"}
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return &requestError{http.StatusBadRequest, "Request body must be a JSON object"}
		}
		// Every field the API accepts is a string.
		return fieldError("body", wrongType.Field, "Must be a string")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fieldError("body", name, "Unknown field")
	default:
		return &requestError{http.StatusBadRequest, "Request body is not valid JSON"}
	}
}
