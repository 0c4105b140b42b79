package api_test

import (
	"net/http"
	"testing"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

const testPassword = apptest.Password

var testSecret = apptest.Secret

// testServer is the real application behind a real HTTP listener, with
// the API client of apptest.
type testServer struct {
	*apptest.Server
	*apptest.Client
}

func newServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	return wrap(t, apptest.Start(t, env))
}

// newServerOn starts the application on one of apptest.Stores (see
// apptest.ForEachStore): the tests of what is stored, of sessions and of
// limits run on every store.
func newServerOn(t testing.TB, st apptest.Store, env map[string]string) *testServer {
	t.Helper()
	return wrap(t, st.Start(t, env))
}

// newServerWithDefaultHasher runs the production argon2id parameters.
func newServerWithDefaultHasher(t testing.TB) *testServer {
	t.Helper()
	return wrap(t, apptest.StartWithHasher(t, nil, nil))
}

func wrap(t testing.TB, srv *apptest.Server) *testServer {
	t.Helper()
	return &testServer{Server: srv, Client: apptest.NewClient(t, srv.URL)}
}

// response is a finished HTTP exchange; request is one to send.
type (
	response = apptest.Response
	request  = apptest.Request
)

func wantStatus(t testing.TB, r *response, status int) {
	t.Helper()
	r.Want(t, status)
}

// createPost publishes a post and returns it.
func (ts *testServer) createPost(t testing.TB, token, title, content string) blog.Post {
	t.Helper()
	r := ts.Post(t, "/posts", token, map[string]string{"title": title, "content": content})
	wantStatus(t, r, http.StatusCreated)
	var b struct {
		Message string
		Post    blog.Post
	}
	r.JSON(t, &b)
	if b.Message != "Post created" {
		t.Fatalf("message = %q", b.Message)
	}
	return b.Post
}
