package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
)

// sentinel is planted in request values; no error may repeat it.
const sentinel = "SENTINEL_VALUE_42"

// decodeBody runs decode on a POST with body and content type ct ("" sends
// no Content-Type header).
func decodeBody(t *testing.T, ct, body string, v any) error {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/posts", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return decode(httptest.NewRecorder(), r, v)
}

// wantRequestError checks that err is a *requestError with status.
func wantRequestError(t *testing.T, err error, status int) {
	t.Helper()
	var rerr *requestError
	if !errors.As(err, &rerr) {
		t.Fatalf("error = %v (%T), want *requestError %d", err, err, status)
	}
	if rerr.status != status {
		t.Errorf("status = %d (%q), want %d", rerr.status, rerr.message, status)
	}
	if rerr.message == "" {
		t.Error("requestError has an empty message")
	}
}

// wantFieldError checks that err is a *blog.ValidationError naming one
// body field.
func wantFieldError(t *testing.T, err error, path, msg string) {
	t.Helper()
	var verr *blog.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v (%T), want *blog.ValidationError", err, err)
	}
	want := blog.FieldError{Type: "field", Path: path, Location: "body", Msg: msg}
	if len(verr.Fields) != 1 || verr.Fields[0] != want {
		t.Errorf("fields = %+v, want [%+v]", verr.Fields, want)
	}
}

func TestDecode(t *testing.T) {
	const honest = `{"title":"Hello","content":"Hello, world."}`
	huge := `{"title":"` + strings.Repeat("a", MaxBodyBytes) + `","content":"x"}`
	type check func(t *testing.T, err error, got blog.PostInput)
	ok := func(title, content string) check {
		return func(t *testing.T, err error, got blog.PostInput) {
			t.Helper()
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if want := (blog.PostInput{Title: title, Content: content}); got != want {
				t.Errorf("decoded %+v, want %+v", got, want)
			}
		}
	}
	status := func(code int) check {
		return func(t *testing.T, err error, _ blog.PostInput) {
			t.Helper()
			wantRequestError(t, err, code)
		}
	}
	field := func(path, msg string) check {
		return func(t *testing.T, err error, _ blog.PostInput) {
			t.Helper()
			wantFieldError(t, err, path, msg)
		}
	}
	tests := []struct {
		name  string
		ct    string
		body  string
		check check
	}{
		{"honest body", "application/json", honest, ok("Hello", "Hello, world.")},
		{"charset parameter", "application/json; charset=utf-8", honest, ok("Hello", "Hello, world.")},
		{"upper-case media type", "Application/JSON", honest, ok("Hello", "Hello, world.")},
		{"surrounding white space", "application/json", " \n\t" + honest + "\r\n ", ok("Hello", "Hello, world.")},
		{"absent fields stay empty", "application/json", `{}`, ok("", "")},
		{"escapes decoded", "application/json", `{"title":"\u003cb\u003e","content":"a\nb"}`, ok("<b>", "a\nb")},
		{"text/plain refused", "text/plain", honest, status(http.StatusUnsupportedMediaType)},
		{"form refused", "application/x-www-form-urlencoded", "title=x", status(http.StatusUnsupportedMediaType)},
		{"multipart refused", "multipart/form-data; boundary=x", honest, status(http.StatusUnsupportedMediaType)},
		{"missing content type", "", honest, status(http.StatusUnsupportedMediaType)},
		{"json-like media type refused", "application/jsonp", honest, status(http.StatusUnsupportedMediaType)},
		{"json suffix refused", "application/merge-patch+json", honest, status(http.StatusUnsupportedMediaType)},
		{"malformed content type", "application/json; charset", honest, status(http.StatusUnsupportedMediaType)},
		{"body over limit", "application/json", huge, status(http.StatusRequestEntityTooLarge)},
		{"trailing white space over limit", "application/json", honest + strings.Repeat(" ", MaxBodyBytes), status(http.StatusRequestEntityTooLarge)},
		{"empty body", "application/json", "", status(http.StatusBadRequest)},
		{"white space only", "application/json", " \n ", status(http.StatusBadRequest)},
		{"operator object for string", "application/json", `{"title": {"$gt": ""}}`, field("title", "Must be a string")},
		{"operator object for content", "application/json", `{"title":"x","content":{"$ne":null}}`, field("content", "Must be a string")},
		{"number for string", "application/json", `{"title": 5, "content": "x"}`, field("title", "Must be a string")},
		{"huge number for string", "application/json", `{"title": 1e999}`, field("title", "Must be a string")},
		{"boolean for string", "application/json", `{"content": true}`, field("content", "Must be a string")},
		{"array for string", "application/json", `{"title": ["a", "b"]}`, field("title", "Must be a string")},
		{"unknown field", "application/json", `{"title":"x","content":"y","author":"z"}`, field("author", "Unknown field")},
		{"unknown field id", "application/json", `{"id":"x","title":"y"}`, field("id", "Unknown field")},
		{"trailing object", "application/json", honest + honest, status(http.StatusBadRequest)},
		{"trailing empty object", "application/json", honest + `{}`, status(http.StatusBadRequest)},
		{"trailing garbage", "application/json", honest + ` x`, status(http.StatusBadRequest)},
		{"trailing comma", "application/json", honest + `,`, status(http.StatusBadRequest)},
		{"array top level", "application/json", `[` + honest + `]`, status(http.StatusBadRequest)},
		{"empty array top level", "application/json", `[]`, status(http.StatusBadRequest)},
		{"string top level", "application/json", `"title"`, status(http.StatusBadRequest)},
		{"number top level", "application/json", `42`, status(http.StatusBadRequest)},
		{"null top level", "application/json", `null`, status(http.StatusBadRequest)},
		{"malformed unquoted keys", "application/json", `{title: "x"}`, status(http.StatusBadRequest)},
		{"truncated", "application/json", `{"title": "x`, status(http.StatusBadRequest)},
		{"unclosed object", "application/json", `{"title": "x"`, status(http.StatusBadRequest)},
		{"single quotes", "application/json", `{'title': 'x'}`, status(http.StatusBadRequest)},
		{"comment", "application/json", `{"title": "x" /* hi */}`, status(http.StatusBadRequest)},
		{"NaN", "application/json", `{"title": NaN}`, status(http.StatusBadRequest)},
		{"deep nesting", "application/json", strings.Repeat("[", 10_000), status(http.StatusBadRequest)},
		{"deep nesting in field", "application/json", `{"title":` + strings.Repeat("[", 20_000), status(http.StatusBadRequest)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got blog.PostInput
			err := decodeBody(t, tt.ct, tt.body, &got)
			tt.check(t, err, got)
		})
	}
}

func TestDecodeErrorsDoNotEchoInput(t *testing.T) {
	bodies := map[string]string{
		"operator":      `{"title": {"$gt": "` + sentinel + `"}}`,
		"number":        `{"title": 4242424242, "content": "` + sentinel + `"}`,
		"unknown field": `{"title":"x","author":"` + sentinel + `"}`,
		"syntax":        `{"title": "` + sentinel + `" ` + sentinel + `}`,
		"trailing":      `{"title":"x"}{"title":"` + sentinel + `"}`,
		"trailing text": `{"title":"x"} ` + sentinel,
		"array":         `["` + sentinel + `"]`,
		"string":        `"` + sentinel + `"`,
		"truncated":     `{"title": "` + sentinel,
		"over limit":    `{"title":"` + sentinel + strings.Repeat("a", MaxBodyBytes) + `"}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			var got blog.PostInput
			err := decodeBody(t, "application/json", body, &got)
			if err == nil {
				t.Fatal("decode accepted the body")
			}
			if strings.Contains(err.Error(), sentinel) || strings.Contains(err.Error(), "4242424242") {
				t.Errorf("error %q echoes the input", err.Error())
			}
			var verr *blog.ValidationError
			if errors.As(err, &verr) {
				out, _ := json.Marshal(validationBody{Errors: verr.Fields})
				if strings.Contains(string(out), sentinel) {
					t.Errorf("validation body %s echoes the input", out)
				}
			}
		})
	}
}

func TestDecodePostPatch(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantTitle   *string
		wantContent *string
	}{
		{"title only", `{"title":"New"}`, ptr("New"), nil},
		{"content only", `{"content":"Body"}`, nil, ptr("Body")},
		{"null leaves nil", `{"title":null,"content":"Body"}`, nil, ptr("Body")},
		{"empty string present", `{"title":""}`, ptr(""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p blog.PostPatch
			if err := decodeBody(t, "application/json", tt.body, &p); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !samePtr(p.Title, tt.wantTitle) || !samePtr(p.Content, tt.wantContent) {
				t.Errorf("decoded {Title:%v Content:%v}, want {Title:%v Content:%v}",
					show(p.Title), show(p.Content), show(tt.wantTitle), show(tt.wantContent))
			}
		})
	}
	t.Run("operator object for pointer field", func(t *testing.T) {
		var p blog.PostPatch
		err := decodeBody(t, "application/json", `{"title":{"$gt":""}}`, &p)
		wantFieldError(t, err, "title", "Must be a string")
	})
}

func ptr(s string) *string { return &s }

func samePtr(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func show(s *string) string {
	if s == nil {
		return "nil"
	}
	return strconv.Quote(*s)
}

func TestWriteJSON(t *testing.T) {
	t.Run("escapes HTML", func(t *testing.T) {
		w := httptest.NewRecorder()
		writeJSON(w, http.StatusCreated, map[string]string{"title": "<script>&</script>"})
		res := w.Result()
		if res.StatusCode != http.StatusCreated {
			t.Errorf("status = %d, want 201", res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Error("no Content-Security-Policy")
		}
		body := w.Body.String()
		if strings.ContainsAny(body, "<>&") {
			t.Errorf("body %q holds unescaped HTML characters", body)
		}
		if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length = %s, body is %d bytes", cl, len(body))
		}
		if !strings.HasSuffix(body, "\n") {
			t.Errorf("body %q does not end with a newline", body)
		}
	})
	t.Run("unencodable value", func(t *testing.T) {
		w := httptest.NewRecorder()
		writeJSON(w, http.StatusOK, map[string]any{"f": func() {}})
		if w.Code != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", w.Code)
		}
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Errorf("body %q is not an error body: %v", w.Body.String(), err)
		}
		if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
			t.Errorf("Content-Length = %s, body is %d bytes", cl, w.Body.Len())
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"title":"Hello","content":"Hello, world."}`))
	f.Add([]byte(`{"title": {"$gt": ""}}`))
	f.Add([]byte(`{"title":"x"}{"title":"y"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []any{new(blog.PostInput), new(blog.PostPatch)} {
			r := httptest.NewRequest(http.MethodPost, "/api/posts", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
			err := decode(httptest.NewRecorder(), r, target)
			var (
				rerr *requestError
				verr *blog.ValidationError
			)
			switch {
			case err == nil:
			case errors.As(err, &rerr):
				if rerr.status != http.StatusBadRequest && rerr.status != http.StatusRequestEntityTooLarge {
					t.Errorf("%T: unexpected status %d (%q)", target, rerr.status, rerr.message)
				}
			case errors.As(err, &verr):
				if len(verr.Fields) == 0 {
					t.Errorf("%T: empty ValidationError", target)
				}
				for _, f := range verr.Fields {
					if f.Type != "field" || f.Location != "body" || f.Msg == "" {
						t.Errorf("%T: malformed field error %+v", target, f)
					}
				}
			default:
				t.Errorf("%T: decode(%q) = %v (%T), want nil, *requestError or *blog.ValidationError", target, body, err, err)
			}
		}
	})
}
