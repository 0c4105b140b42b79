package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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
	writeJSONHeaders(w, len(body)+1)
	w.WriteHeader(status)
	// A failed write means the client went away: nobody is left to tell.
	_, _ = w.Write(body)
	_, _ = w.Write(newline) // separately: appending would copy the whole body
}

var newline = []byte{'\n'}

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

// decode reads the request body strictly into v, a pointer to a struct:
// only application/json, at most MaxBodyBytes, one JSON object whose keys
// are exactly v's field names (no unknown, differently-cased or repeated
// keys, which different parsers would read differently), no value of the
// wrong type (so {"$gt": ""} never becomes a string or reaches a query),
// nothing after it. The error is a *requestError or a
// *blog.ValidationError, both safe to show.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return decodeError(err)
	}
	switch trimmed := bytes.TrimLeft(data, " \t\r\n"); {
	case !utf8.Valid(data):
		// encoding/json would quietly turn bad bytes into U+FFFD, so a
		// stored title (or a hashed password) would differ from what was
		// sent, and from what the same bytes give through a form.
		return &requestError{http.StatusBadRequest, "Request body is not valid UTF-8"}
	case len(trimmed) == 0:
		return &requestError{http.StatusBadRequest, "Request body is empty"}
	case trimmed[0] != '{':
		// A bare null, number or array would decode without error into
		// an empty struct; only an object is a request.
		return &requestError{http.StatusBadRequest, "Request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &requestError{http.StatusBadRequest, "Request body must hold exactly one JSON object"}
	}
	return checkKeys(data, jsonFields(reflect.TypeOf(v).Elem()))
}

// checkKeys walks the top-level keys of the (already valid) object in
// data. encoding/json matches keys case-insensitively and lets a repeated
// key win silently; a proxy or WAF in front may read the same body
// differently, so both are refused.
func checkKeys(data []byte, fields map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return decodeError(err)
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return decodeError(err)
		}
		key, _ := tok.(string)
		switch {
		case !fields[key]:
			return fieldError("body", truncate(key, 64), "Unknown field")
		case seen[key]:
			return fieldError("body", key, "Duplicate field")
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return decodeError(err)
		}
	}
	return nil
}

// fieldNames caches the JSON names of each request struct's fields.
var fieldNames sync.Map // reflect.Type → map[string]bool

func jsonFields(t reflect.Type) map[string]bool {
	if m, ok := fieldNames.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = true
	}
	fieldNames.Store(t, m)
	return m
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
		return fieldError("body", truncate(name, 64), "Unknown field") // a client-chosen name is echoed: keep it short
	default:
		return &requestError{http.StatusBadRequest, "Request body is not valid JSON"}
	}
}
