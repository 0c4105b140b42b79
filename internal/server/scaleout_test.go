package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
	"github.com/palisade-blog/palisade/internal/postgres/pgtest"
)

// database returns a fresh database URL of the kind under test.
type database func(t testing.TB) string

// databases are the shared stores the scale-out tests run on.
var databases = []struct {
	name string
	url  database
}{
	{"Postgres", pgtest.Schema},
	{"MongoDB", mongotest.Database},
}

// cluster starts n instances sharing one database and one Redis key
// prefix, as several machines behind a load balancer would.
func cluster(t *testing.T, db database, n int, env map[string]string) []*apptest.Server {
	t.Helper()
	redisURL := os.Getenv("PALISADE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("scale-out tests skipped: PALISADE_TEST_REDIS_URL is not set")
	}
	shared := map[string]string{
		"PALISADE_DATABASE_URL": db(t),
		"PALISADE_REDIS_URL":    redisURL,
		"PALISADE_REDIS_PREFIX": "palisade-test-" + randomHex(6) + ":",
		// Every instance must share the secrets, as the README says.
		"PALISADE_SESSION_SECRET": randomHex(32),
		"PALISADE_2FA_KEYS":       randomHex(32),
	}
	for k, v := range env {
		shared[k] = v
	}
	var out []*apptest.Server
	for range n {
		out = append(out, apptest.Start(t, shared))
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// call sends a JSON request to srv (see apptest.Request) and returns the
// status and body.
func call(t *testing.T, srv *apptest.Server, method, path, token string, body any) (int, []byte) {
	t.Helper()
	r := apptest.NewClient(t, srv.URL).Do(t, apptest.Request{Method: method, Path: path, Token: token, Body: body})
	return r.Status, r.Body
}

func signUp(t *testing.T, srv *apptest.Server, name string) string {
	t.Helper()
	return apptest.NewClient(t, srv.URL).SignUp(t, name)
}

// TestRateLimitIsOneLimitAcrossInstances: 100/15m means 100 in total
// however the load balancer spreads the requests, not 100 per instance.
func TestRateLimitIsOneLimitAcrossInstances(t *testing.T) {
	nodes := cluster(t, pgtest.Schema, 3, map[string]string{"PALISADE_RATE_LIMIT": "100/15m"})
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := call(t, nodes[i%3], http.MethodGet, "/posts", "", nil)
			switch status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
			default:
				t.Errorf("status %d", status)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 100 || limited.Load() != 20 {
		var why []string
		for _, n := range nodes {
			for _, line := range strings.Split(n.Logs.String(), "\n") {
				if strings.Contains(line, "rate limiter") {
					why = append(why, line)
				}
			}
		}
		t.Fatalf("%d served and %d limited across 3 instances, want exactly 100 and 20; limiter errors:\n%s", ok.Load(), limited.Load(), strings.Join(why, "\n"))
	}
	for i, n := range nodes {
		if status, _ := call(t, n, http.MethodGet, "/posts", "", nil); status != http.StatusTooManyRequests {
			t.Fatalf("instance %d served the 121st request: %d", i, status)
		}
	}
}

func TestInstancesShareEverything(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { testInstancesShareEverything(t, db.url) })
	}
}

func testInstancesShareEverything(t *testing.T, db database) {
	nodes := cluster(t, db, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	token := signUp(t, a, "alice")

	t.Run("PostsWrittenInParallelThroughAllAreAllThere", func(t *testing.T) {
		var wg sync.WaitGroup
		var created atomic.Int32
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := []*apptest.Server{a, b, c}[i%3]
				status, body := call(t, node, http.MethodPost, "/posts", token, map[string]string{"title": fmt.Sprintf("Post %d", i), "content": "Written through one of three instances"})
				if status != http.StatusCreated {
					t.Errorf("create on instance %d: %d %s", i%3, status, body)
					return
				}
				created.Add(1)
			}()
		}
		wg.Wait()
		for i, node := range []*apptest.Server{a, b, c} {
			_, body := call(t, node, http.MethodGet, "/posts?limit=100", "", nil)
			var posts []blog.Post
			if err := json.Unmarshal(body, &posts); err != nil {
				t.Fatalf("instance %d: %v: %s", i, err, body)
			}
			if len(posts) != int(created.Load()) || created.Load() != 30 {
				t.Fatalf("instance %d sees %d posts; %d were created", i, len(posts), created.Load())
			}
		}
	})

	t.Run("SignOutOnOneIsSeenByAll", func(t *testing.T) {
		tok := signUp(t, b, "bob")
		for i, node := range []*apptest.Server{a, b, c} {
			if status, _ := call(t, node, http.MethodGet, "/users/me", tok, nil); status != http.StatusOK {
				t.Fatalf("instance %d refuses a fresh token: %d", i, status)
			}
		}
		if status, _ := call(t, c, http.MethodPost, "/auth/logout", tok, nil); status != http.StatusNoContent {
			t.Fatalf("logout: %d", status)
		}
		for i, node := range []*apptest.Server{a, b, c} {
			if status, _ := call(t, node, http.MethodGet, "/users/me", tok, nil); status != http.StatusUnauthorized {
				t.Fatalf("instance %d accepts a token revoked on another: %d", i, status)
			}
		}
	})

	t.Run("SessionIsValidOnEveryInstance", func(t *testing.T) {
		// Cookies are scoped to the host, not the port, so one jar carries
		// the session to every instance, as a load balancer's single origin
		// would.
		client := apptest.NewClient(t, a.URL)
		page := func(srv *apptest.Server, path string) string {
			return client.On(t, srv.URL).Page(t, path).Text()
		}
		// submit posts a form on srv with a token from a page served by
		// another instance: the token lives in the shared session.
		submit := func(srv, tokenFrom *apptest.Server, path, tokenPage string, values url.Values) int {
			values.Set("_csrf", client.On(t, tokenFrom.URL).CSRFToken(t, tokenPage))
			return client.On(t, srv.URL).PostForm(t, path, values, nil).Status
		}
		if status := submit(a, b, "/login", "/login", url.Values{"username": {"alice"}, "password": {apptest.Password}}); status != http.StatusSeeOther {
			t.Fatalf("sign in on a with b's form: %d", status)
		}
		for i, node := range []*apptest.Server{a, b, c} {
			if !strings.Contains(page(node, "/"), "Signed in as </span><strong>alice</strong>") {
				t.Fatalf("instance %d does not know the session", i)
			}
		}
		if status := submit(c, a, "/logout", "/write", url.Values{}); status != http.StatusSeeOther {
			t.Fatalf("sign out on c: %d", status)
		}
		for i, node := range []*apptest.Server{a, b, c} {
			if strings.Contains(page(node, "/"), "Signed in as") {
				t.Fatalf("instance %d still honours a session destroyed on another", i)
			}
		}
	})
}

// TestRedisOutage: with Redis gone, the general rate limit fails open
// (the blog stays up, the error is logged), sign-in fails closed (503: no
// unthrottled password guessing), and /readyz reports Redis down.
func TestRedisOutage(t *testing.T) {
	redisURL := os.Getenv("PALISADE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("scale-out tests skipped: PALISADE_TEST_REDIS_URL is not set")
	}
	u, _ := url.Parse(redisURL)
	proxy := apptest.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	srv := apptest.Start(t, map[string]string{"PALISADE_REDIS_URL": u.String(), "PALISADE_REDIS_PREFIX": "palisade-test-" + randomHex(6) + ":", "PALISADE_METRICS": "on"})
	token := signUp(t, srv, "alice")
	if _, _, body := getBody(t, srv.URL+"/metrics", nil); !strings.Contains(body, "palisade_rate_limit_failed_open_total 0\n") {
		t.Fatalf("fail-opens counted with Redis up:\n%s", body)
	}

	proxy.Cut()
	// A bearer request needs the revocation list, which is in Redis: a
	// retryable 503, not a 500.
	if status, body := call(t, srv, http.MethodGet, "/users/me", token, nil); status != http.StatusServiceUnavailable {
		t.Fatalf("GET /users/me with Redis down: %d %s, want 503", status, body)
	}
	start := time.Now()
	if status, _ := call(t, srv, http.MethodGet, "/posts", "", nil); status != http.StatusOK {
		t.Fatalf("GET /posts with Redis down: %d, want 200 (general limit fails open)", status)
	}
	// Bounded, not fast: each Redis call gives up within its 2.5 s budget
	// (a refused connection at once); 10 s leaves room for a busy machine
	// while still catching a request that waits on Redis for good.
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("a request took %v with Redis down: calls must time out", took)
	}
	if !strings.Contains(srv.Logs.String(), "rate limiter unavailable") {
		t.Fatal("the limiter failure was not logged")
	}
	// Every request served unlimited is counted for the operator to alert
	// on (the scrape itself is exempt from the limit).
	if _, _, body := getBody(t, srv.URL+"/metrics", nil); !regexp.MustCompile(`(?m)^palisade_rate_limit_failed_open_total [1-9]`).MatchString(body) {
		t.Fatalf("the fail-open was not counted in /metrics:\n%s", body)
	}
	status, _ := call(t, srv, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": apptest.Password})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("sign-in with Redis down: %d, want 503 (throttling fails closed)", status)
	}
	status, body := call(t, srv, http.MethodGet, "/readyz", "", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"redis":"down"`) {
		t.Fatalf("readyz with Redis down: %d %s", status, body)
	}

	proxy.Restore()
	// Polled: the loop ends as soon as sign-in works; the deadline only
	// catches one that never recovers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _ := call(t, srv, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": apptest.Password})
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign-in did not recover after Redis came back: %d", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPostgresConnectionsKilled: the database drops every connection
// mid-load (pg_terminate_backend, as a failover or restart would). Requests
// may fail while it happens, but the server recovers by itself and every
// post it acknowledged is stored.
func TestPostgresConnectionsKilled(t *testing.T) {
	dbURL := pgtest.Schema(t)
	srv := apptest.Start(t, map[string]string{"PALISADE_DATABASE_URL": dbURL})
	token := signUp(t, srv, "alice")
	admin := pgtest.Conn(t)

	var acked sync.Map
	var failed atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, body := call(t, srv, http.MethodPost, "/posts", token, map[string]string{"title": fmt.Sprintf("w%d-%d", w, i), "content": "Written while connections die"})
				switch status {
				case http.StatusCreated:
					var b struct{ Post blog.Post }
					if err := json.Unmarshal(body, &b); err != nil {
						t.Errorf("created post: %v: %s", err, body)
						return
					}
					acked.Store(b.Post.ID, true)
				case http.StatusServiceUnavailable:
					// Retryable: the client is told to come back.
					failed.Add(1)
				default:
					t.Errorf("status %d %s", status, body)
				}
			}
		}()
	}
	for range 5 {
		time.Sleep(100 * time.Millisecond)
		if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, pgtest.AppName(t, dbURL)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	// Recovered: a fresh request succeeds.
	if status, body := call(t, srv, http.MethodGet, "/posts?limit=1", "", nil); status != http.StatusOK {
		t.Fatalf("after the connections died: %d %s", status, body)
	}
	lost := 0
	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		if _, err := srv.Store.PostByID(t.Context(), k.(string)); err != nil {
			lost++
		}
		return true
	})
	t.Logf("%d posts acknowledged, %d requests failed during the kills", n, failed.Load())
	if n == 0 || lost > 0 {
		t.Fatalf("%d of %d acknowledged posts lost", lost, n)
	}
}

// TestDatabaseOutage: while the database is unreachable (a restart, a
// network cut) requests get 503 with Retry-After, /readyz says the
// database is down, /healthz stays up, and service resumes by itself when
// the database is back.
func TestDatabaseOutage(t *testing.T) {
	for _, db := range []struct {
		name           string
		url            database
		timeout, value string // a short connect time-out for the test
	}{
		{"Postgres", pgtest.Schema, "connect_timeout", "2"},
		{"MongoDB", mongotest.Database, "serverSelectionTimeoutMS", "1000"},
	} {
		t.Run(db.name, func(t *testing.T) {
			u, _ := url.Parse(db.url(t))
			proxy := apptest.StartProxy(t, u.Host)
			u.Host = proxy.Addr
			q := u.Query()
			q.Set(db.timeout, db.value)
			u.RawQuery = q.Encode()
			srv := apptest.Start(t, map[string]string{"PALISADE_DATABASE_URL": u.String()})
			token := signUp(t, srv, "alice")

			proxy.Cut()
			status, _ := call(t, srv, http.MethodGet, "/posts", "", nil)
			if status != http.StatusServiceUnavailable {
				t.Fatalf("GET /posts with the database down: %d, want 503\n%s", status, srv.Logs.String())
			}
			status, body := call(t, srv, http.MethodGet, "/readyz", "", nil)
			if status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"database":"down"`) {
				t.Fatalf("readyz with the database down: %d %s", status, body)
			}
			if status, _ := call(t, srv, http.MethodGet, "/healthz", "", nil); status != http.StatusOK {
				t.Fatalf("healthz (liveness) with the database down: %d, want 200: the process is fine", status)
			}

			proxy.Restore()
			deadline := time.Now().Add(30 * time.Second)
			for {
				status, _ := call(t, srv, http.MethodPost, "/posts", token, map[string]string{"title": "Back again", "content": "The database returned"})
				if status == http.StatusCreated {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("did not recover after the database came back: %d", status)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// TestRateLimitFailsClosedUnlessRedisIsUnreachable: only a Redis that is
// out of reach opens the general limit. Any other failure of the limiter
// (here the client shut, as at shutdown; in production, a burst that finds
// no free connection in time) is answered 503 with Retry-After, never
// served unlimited, and is not counted as a fail-open.
func TestRateLimitFailsClosedUnlessRedisIsUnreachable(t *testing.T) {
	redisURL := os.Getenv("PALISADE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("scale-out tests skipped: PALISADE_TEST_REDIS_URL is not set")
	}
	srv := apptest.Start(t, map[string]string{"PALISADE_REDIS_URL": redisURL, "PALISADE_REDIS_PREFIX": "palisade-test-" + randomHex(6) + ":", "PALISADE_METRICS": "on"})
	if status, _ := call(t, srv, http.MethodGet, "/posts", "", nil); status != http.StatusOK {
		t.Fatalf("GET /posts with Redis up: %d", status)
	}
	if err := srv.Redis.Close(); err != nil {
		t.Fatal(err)
	}
	status, h, body := getBody(t, srv.URL+"/posts", nil)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || !strings.Contains(body, `"error":"Service Unavailable"`) {
		t.Fatalf("GET /posts with the limiter failing but Redis reachable: %d, Retry-After %q, %s; want 503, 1, JSON", status, h.Get("Retry-After"), body)
	}
	status, _, body = getBody(t, srv.URL+"/posts", map[string]string{"Accept": "text/html"})
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "The server is busy") {
		t.Fatalf("a page with the limiter failing but Redis reachable: %d, want a 503 page\n%s", status, body)
	}
	if !strings.Contains(srv.Logs.String(), "rate limiter busy") || strings.Contains(srv.Logs.String(), "rate limiter unavailable") {
		t.Fatalf("want the failure logged as busy, not as a fail-open:\n%s", srv.Logs.String())
	}
	if _, _, body := getBody(t, srv.URL+"/metrics", nil); !strings.Contains(body, "palisade_rate_limit_failed_open_total 0\n") {
		t.Fatalf("a refused request was counted as a fail-open:\n%s", body)
	}
}
