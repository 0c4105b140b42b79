package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

const testPassword = apptest.Password

var testSecret = apptest.Secret

// testServer is the real application behind a real HTTP listener, with
// the API client helpers below.
type testServer struct{ *apptest.Server }

func newServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	return &testServer{apptest.Start(t, env)}
}

// newServerOn starts the application on one of apptest.Stores (see
// apptest.ForEachStore): the tests of what is stored, of sessions and of
// limits run on every store.
func newServerOn(t testing.TB, st apptest.Store, env map[string]string) *testServer {
	t.Helper()
	return &testServer{st.Start(t, env)}
}

// newServerWithDefaultHasher runs the production argon2id parameters.
func newServerWithDefaultHasher(t testing.TB) *testServer {
	t.Helper()
	return &testServer{apptest.StartWithHasher(t, nil, nil)}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response body %q is not JSON: %v", r.body, err)
	}
}

// errorText returns the "error" field of a JSON error body.
func (r *response) errorText(t testing.TB) string {
	t.Helper()
	var b struct {
		Error string `json:"error"`
	}
	r.json(t, &b)
	return b.Error
}

// request is one request to send; body is JSON-encoded unless it is a
// string (sent as is) or nil.
type request struct {
	method, path, token string
	body                any
	header              map[string]string
}

// encodeBody returns the request's body bytes: a string as is, anything
// else as JSON, nil for none.
func (req request) encodeBody(t testing.TB) []byte {
	t.Helper()
	switch b := req.body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
}

// httpRequest builds the request to send, with body as its body.
func (ts *testServer) httpRequest(t testing.TB, req request, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(req.method, ts.URL+req.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		if k == "Host" {
			r.Host = v // net/http sends r.Host, not a Host header
			continue
		}
		r.Header.Set(k, v)
	}
	return r
}

func (ts *testServer) send(t testing.TB, req request) *response {
	t.Helper()
	resp, err := ts.Client().Do(ts.httpRequest(t, req, req.encodeBody(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (ts *testServer) get(t testing.TB, path, token string) *response {
	t.Helper()
	return ts.send(t, request{method: http.MethodGet, path: path, token: token})
}

func (ts *testServer) post(t testing.TB, path, token string, body any) *response {
	t.Helper()
	return ts.send(t, request{method: http.MethodPost, path: path, token: token, body: body})
}

func wantStatus(t testing.TB, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}

// register creates an account and returns its ID.
func (ts *testServer) register(t testing.TB, username string) string {
	t.Helper()
	r := ts.post(t, "/auth/register", "", map[string]string{"username": username, "password": testPassword})
	wantStatus(t, r, http.StatusCreated)
	var b struct{ User struct{ ID string } }
	r.json(t, &b)
	return b.User.ID
}

// login signs in and returns the bearer token.
func (ts *testServer) login(t testing.TB, username string) string {
	t.Helper()
	r := ts.post(t, "/auth/login", "", map[string]string{"username": username, "password": testPassword})
	wantStatus(t, r, http.StatusOK)
	var b struct{ Token string }
	r.json(t, &b)
	if b.Token == "" {
		t.Fatal("login returned no token")
	}
	return b.Token
}

// signUp registers and signs in.
func (ts *testServer) signUp(t testing.TB, username string) string {
	t.Helper()
	ts.register(t, username)
	return ts.login(t, username)
}

// createPost publishes a post and returns it.
func (ts *testServer) createPost(t testing.TB, token, title, content string) blog.Post {
	t.Helper()
	r := ts.post(t, "/posts", token, map[string]string{"title": title, "content": content})
	wantStatus(t, r, http.StatusCreated)
	var b struct {
		Message string
		Post    blog.Post
	}
	r.json(t, &b)
	if b.Message != "Post created" {
		t.Fatalf("message = %q", b.Message)
	}
	return b.Post
}
