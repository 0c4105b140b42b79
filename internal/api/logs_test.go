package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
)

// TestSecretsNeverLogged runs every kind of request, honest and hostile,
// then searches the whole log for the passwords, tokens and secrets used.
func TestSecretsNeverLogged(t *testing.T) { apptest.ForEachStore(t, testSecretsNeverLogged) }

func testSecretsNeverLogged(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	wrongPassword := "not-the-password-but-still-secret"
	ts.Register(t, "alice")
	token := ts.Login(t, "alice")
	ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": wrongPassword})
	ts.Post(t, "/auth/login", "", map[string]string{"username": "nobody", "password": wrongPassword})
	ts.Post(t, "/auth/register", "", map[string]string{"username": "bob", "password": "short-secret-pw"})
	p := ts.createPost(t, token, "A title", "Some content here")
	ts.Do(t, request{Method: http.MethodPatch, Path: "/posts/" + p.ID, Token: token, Body: map[string]string{"title": "New title"}})
	ts.Get(t, "/users/me?token="+token, "")
	ts.Do(t, request{Method: http.MethodGet, Path: "/users/me", Header: map[string]string{"Cookie": "session=" + token}})
	ts.Get(t, "/users/me", token+"x")
	ts.Post(t, "/auth/logout", token, nil)
	ts.Get(t, "/users/me", token)

	logs := ts.Logs.String()
	_, hash, err := ts.Store.Credentials(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{
		"password":        testPassword,
		"wrong password":  wrongPassword,
		"short password":  "short-secret-pw",
		"token":           token,
		"token payload":   strings.Split(token, ".")[1],
		"token signature": strings.Split(token, ".")[2],
		"jwt secret":      testSecret,
		"session secret":  string(ts.Config.SessionSecret),
		"password hash":   hash,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("%s appears in the log", name)
		}
	}
	if len(ts.Config.TwoFactorKeys) == 0 {
		t.Error("the test server has no 2FA key")
	}
	for _, k := range ts.Config.TwoFactorKeys {
		if strings.Contains(logs, string(k)) {
			t.Error("a 2FA key appears in the log")
		}
	}
	for _, event := range []string{"login.success", "login.failure", "token.revoked", "auth.rejected", "user.registered"} {
		if !strings.Contains(logs, `"event":"`+event+`"`) {
			t.Errorf("security event %s not logged", event)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}

// failingStore fails every call, as a database that went away would.
type failingStore struct{ blog.Store }

var errDown = errors.New(`pq: connection to "db.internal:5432" user=palisade refused`)

func (failingStore) Ping(context.Context) error { return errDown }
func (failingStore) ListPosts(context.Context, blog.Page) ([]blog.Post, *blog.Cursor, error) {
	return nil, nil, errDown
}

func TestInternalErrorsLeakNothing(t *testing.T) {
	apptest.ForEachStore(t, testInternalErrorsLeakNothing)
}

func testInternalErrorsLeakNothing(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	ts.SwapStore(t, failingStore{ts.Store})

	r := ts.Get(t, "/posts", "")
	wantStatus(t, r, http.StatusInternalServerError)
	var b struct{ Error, RequestID string }
	r.JSON(t, &b)
	if b.Error != "Internal Server Error" || b.RequestID == "" || b.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("500 body %s", r.Body)
	}
	if strings.Contains(string(r.Body), "db.internal") || strings.Contains(string(r.Body), "pq:") {
		t.Fatalf("driver message leaked: %s", r.Body)
	}
	if !strings.Contains(ts.Logs.String(), b.RequestID) || !strings.Contains(ts.Logs.String(), "db.internal") {
		t.Fatal("the detail did not reach the log under the request ID")
	}

	t.Run("ReadyzReportsDatabaseDown", func(t *testing.T) {
		r := ts.Get(t, "/readyz", "")
		wantStatus(t, r, http.StatusServiceUnavailable)
		if !strings.Contains(string(r.Body), `"database":"down"`) || strings.Contains(string(r.Body), "db.internal") {
			t.Fatalf("readyz body %s", r.Body)
		}
	})
	t.Run("HealthzStillUp", func(t *testing.T) {
		wantStatus(t, ts.Get(t, "/healthz", ""), http.StatusOK)
	})
}

func TestReadyz(t *testing.T) { apptest.ForEachStore(t, testReadyz) }

func testReadyz(t *testing.T, st apptest.Store) {
	ts := newServerOn(t, st, nil)
	r := ts.Get(t, "/readyz", "")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"database":"up"`) {
		t.Fatalf("readyz body %s", r.Body)
	}
}

func TestTokenLifetimeConfigurable(t *testing.T) {
	ts := newServer(t, map[string]string{"PALISADE_JWT_TTL": "2m"})
	ts.Register(t, "alice")
	r := ts.Post(t, "/auth/login", "", map[string]string{"username": "alice", "password": testPassword})
	var tok struct{ ExpiresAt time.Time }
	r.JSON(t, &tok)
	if d := time.Until(tok.ExpiresAt); d > 2*time.Minute+time.Second || d < time.Minute {
		t.Fatalf("token lives %v, want 2m", d)
	}
}

// unencodableStore serves a post that JSON cannot encode (a year past
// 9999), as a corrupted row would.
type unencodableStore struct{ blog.Store }

func (s unencodableStore) PostByID(ctx context.Context, id string) (blog.Post, error) {
	p, err := s.Store.PostByID(ctx, id)
	p.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	return p, err
}

// TestEncodeErrorLogged: a post that cannot be encoded is a 500 with the
// request ID, and the log has the cause under that ID but not the post.
func TestEncodeErrorLogged(t *testing.T) {
	ts := newServer(t, nil)
	token := ts.SignUp(t, "alice")
	p := ts.createPost(t, token, "A private-looking title", "Some content here")
	ts.SwapStore(t, unencodableStore{ts.Store})

	r := ts.Get(t, "/posts/"+p.ID, "")
	wantStatus(t, r, http.StatusInternalServerError)
	var b struct{ Error, RequestID string }
	r.JSON(t, &b)
	if b.Error != "Internal Server Error" || b.RequestID == "" || b.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("500 body %s", r.Text())
	}
	logs := ts.Logs.String()
	var line string
	for l := range strings.Lines(logs) {
		if strings.Contains(l, `"msg":"internal error"`) && strings.Contains(l, b.RequestID) {
			line = l
		}
	}
	if !strings.Contains(line, "encode post") {
		t.Fatalf("no internal error logged under request ID %s:\n%s", b.RequestID, logs)
	}
	if strings.Contains(line, "A private-looking title") || strings.Contains(line, "Some content here") {
		t.Fatalf("the log line carries the post:\n%s", line)
	}
}
