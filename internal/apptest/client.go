package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Client talks to one origin of the application as the tests' clients do:
// JSON calls with a bearer token for the API, pages and same-origin form
// posts with a cookie jar for the website. It never follows a redirect, so
// a test sees each 303 and its Location.
//
// Every method takes the calling test, so one Client may serve a test and
// its subtests.
type Client struct {
	// HTTP sends the requests; a test may set its Timeout or read its Jar.
	HTTP   *http.Client
	base   string // scheme and host, no trailing slash
	origin *url.URL
}

// NewClient returns a client for baseURL (scheme and host, such as a
// Server's URL) with an empty cookie jar. Its idle connections are closed
// when the test ends.
func NewClient(t testing.TB, baseURL string) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return (&Client{HTTP: &http.Client{
		Transport:     tr,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}).On(t, baseURL)
}

// On returns a client for another origin that shares c's cookie jar and
// connections, as one browser does with several instances behind a load
// balancer (cookies are scoped to the host, not the port).
func (c *Client) On(t testing.TB, baseURL string) *Client {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Fatalf("apptest: %q is not an origin such as http://127.0.0.1:3000 (%v)", baseURL, err)
	}
	return &Client{HTTP: c.HTTP, base: strings.TrimSuffix(baseURL, "/"), origin: u}
}

// Origin is the client's origin: scheme and host.
func (c *Client) Origin() string { return c.base }

// Request is one request for Client.Do.
type Request struct {
	Method string // GET when empty
	Path   string // path and query, on the client's origin
	Token  string // sent as a bearer token when not empty
	// Body is sent as application/json: a string or []byte as is (so a
	// test can send malformed JSON), anything else encoded. url.Values
	// are sent as a form instead. nil sends no body.
	Body any
	// Header is set last, over the defaults. An empty value removes the
	// header; "Host" sets the request's Host line.
	Header map[string]string
}

// Response is a finished exchange, its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte

	method, path string
}

// Text is the body as a string.
func (r *Response) Text() string { return string(r.Body) }

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s %s: response body %q is not JSON: %v", r.method, r.path, r.Body, err)
	}
}

// ErrorText returns the "error" field of a JSON error body.
func (r *Response) ErrorText(t testing.TB) string {
	t.Helper()
	var b struct {
		Error string `json:"error"`
	}
	r.JSON(t, &b)
	return b.Error
}

// Want fails the test unless the response has the status, and returns r.
func (r *Response) Want(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s %s: status = %d, want %d; body %s", r.method, r.path, r.Status, status, r.Body)
	}
	return r
}

// perRequestHeaders differ between any two answers, however alike: the
// time, the request's ID and the client's remaining rate limit.
var perRequestHeaders = []string{"Date", "X-Request-Id", "Ratelimit"}

// cookieExpires is a cookie's Expires attribute: the time of the request
// plus Max-Age, which Set-Cookie also carries.
var cookieExpires = regexp.MustCompile(`(?i); *Expires=[^;]*`)

// WantSameAnswer fails the test unless r is the same answer as want:
// the same status, headers and body, but for what differs between any two
// requests (the Date, X-Request-Id and RateLimit headers, a cookie's
// Expires, the request ID in the body, masked CSRF tokens). It is how a
// test shows that a refusal tells nothing, a draft's 404 being a missing
// post's, say.
func (r *Response) WantSameAnswer(t testing.TB, want *Response) {
	t.Helper()
	if r.Status != want.Status {
		t.Errorf("%s %s: status %d, but %s %s: %d", r.method, r.path, r.Status, want.method, want.path, want.Status)
	}
	gotH, wantH := r.Header.Clone(), want.Header.Clone()
	for _, k := range perRequestHeaders {
		gotH.Del(k)
		wantH.Del(k)
	}
	for _, k := range sortedKeys(gotH, wantH) {
		g, w := strings.Join(gotH.Values(k), "\n"), strings.Join(wantH.Values(k), "\n")
		if k == "Set-Cookie" {
			g, w = cookieExpires.ReplaceAllString(g, ""), cookieExpires.ReplaceAllString(w, "")
		}
		if g != w {
			t.Errorf("%s %s: %s: %q, but %s %s: %q", r.method, r.path, k, g, want.method, want.path, w)
		}
	}
	if g, w := r.comparableBody(), want.comparableBody(); g != w {
		t.Errorf("%s %s: body\n%s\nbut %s %s:\n%s", r.method, r.path, g, want.method, want.path, w)
	}
}

// comparableBody is the body with its request ID and CSRF tokens
// replaced by placeholders.
func (r *Response) comparableBody() string {
	b := string(r.Body)
	if id := r.Header.Get("X-Request-Id"); id != "" {
		b = strings.ReplaceAll(b, id, "REQUEST-ID")
	}
	return csrfField.ReplaceAllString(b, `name="_csrf" value="CSRF"`)
}

// sortedKeys is the union of the headers' names, sorted.
func sortedKeys(hs ...http.Header) []string {
	var keys []string
	for _, h := range hs {
		for k := range h {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// NewRequest builds req on the client's origin; Send sends it. Do does
// both; the two halves are for a test that inspects the request first.
func (c *Client) NewRequest(t testing.TB, req Request) *http.Request {
	t.Helper()
	var body io.Reader
	contentType := ""
	switch b := req.Body.(type) {
	case nil:
	case string:
		body, contentType = strings.NewReader(b), "application/json"
	case []byte:
		body, contentType = bytes.NewReader(b), "application/json"
	case url.Values:
		body, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body, contentType = bytes.NewReader(j), "application/json"
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequest(method, c.base+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		switch {
		case k == "Host":
			r.Host = v // net/http sends r.Host, not a Host header
		case v == "":
			r.Header.Del(k)
		default:
			r.Header.Set(k, v)
		}
	}
	return r
}

// Send sends r with the client's jar and reads the whole response.
func (c *Client) Send(t testing.TB, r *http.Request) *Response {
	t.Helper()
	resp, err := c.HTTP.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below; nothing to flush
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the body: %v", r.Method, r.URL.Path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b, method: r.Method, path: r.URL.RequestURI()}
}

// Do sends req and reads the response.
func (c *Client) Do(t testing.TB, req Request) *Response {
	t.Helper()
	return c.Send(t, c.NewRequest(t, req))
}

// Get sends a GET to the API, with token unless it is empty.
func (c *Client) Get(t testing.TB, path, token string) *Response {
	t.Helper()
	return c.Do(t, Request{Method: http.MethodGet, Path: path, Token: token})
}

// Post sends body to the API as JSON (see Request.Body), with token
// unless it is empty.
func (c *Client) Post(t testing.TB, path, token string, body any) *Response {
	t.Helper()
	return c.Do(t, Request{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// Register creates an account with Password through the API and returns
// its ID.
func (c *Client) Register(t testing.TB, username string) string {
	t.Helper()
	r := c.Post(t, "/auth/register", "", map[string]string{"username": username, "password": Password}).Want(t, http.StatusCreated)
	var b struct{ User struct{ ID string } }
	r.JSON(t, &b)
	return b.User.ID
}

// Login signs username in through the API and returns the bearer token.
func (c *Client) Login(t testing.TB, username string) string {
	t.Helper()
	r := c.Post(t, "/auth/login", "", map[string]string{"username": username, "password": Password}).Want(t, http.StatusOK)
	var b struct{ Token string }
	r.JSON(t, &b)
	if b.Token == "" {
		t.Fatalf("login of %s returned no token", username)
	}
	return b.Token
}

// SignUp registers username and signs in; it returns the bearer token.
func (c *Client) SignUp(t testing.TB, username string) string {
	t.Helper()
	c.Register(t, username)
	return c.Login(t, username)
}

// Page loads a website page as a browser does (accepting HTML).
func (c *Client) Page(t testing.TB, path string) *Response {
	t.Helper()
	return c.Do(t, Request{Path: path, Header: map[string]string{"Accept": "text/html,application/xhtml+xml"}})
}

// PostForm submits form as a browser does from one of the site's own
// pages: Origin is the client's origin and Sec-Fetch-Site same-origin.
// headers override those (a cross-site Sec-Fetch-Site, a foreign Origin;
// an empty value removes one).
func (c *Client) PostForm(t testing.TB, path string, form url.Values, headers map[string]string) *Response {
	t.Helper()
	h := map[string]string{"Accept": "text/html", "Origin": c.base, "Sec-Fetch-Site": "same-origin"}
	for k, v := range headers {
		h[k] = v
	}
	return c.Do(t, Request{Method: http.MethodPost, Path: path, Body: form, Header: h})
}

// csrfField finds the CSRF token in a page's form.
var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// CSRFField returns the value of the first _csrf field in an HTML page.
func CSRFField(page string) (string, bool) {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// CSRFToken loads path and returns the CSRF token of its first form.
func (c *Client) CSRFToken(t testing.TB, path string) string {
	t.Helper()
	p := c.Page(t, path)
	tok, ok := CSRFField(p.Text())
	if !ok {
		t.Fatalf("no CSRF field on %s (status %d)", path, p.Status)
	}
	return tok
}

// Submit loads formPage, then posts form to action with the page's CSRF
// token, as a person filling in the form does.
func (c *Client) Submit(t testing.TB, formPage, action string, form url.Values) *Response {
	t.Helper()
	form.Set("_csrf", c.CSRFToken(t, formPage))
	return c.PostForm(t, action, form, nil)
}

// Cookie returns the jar's cookie called name for the client's origin, or
// nil.
func (c *Client) Cookie(name string) *http.Cookie {
	for _, ck := range c.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// Cookies returns the jar's cookies for the client's origin.
func (c *Client) Cookies() []*http.Cookie { return c.HTTP.Jar.Cookies(c.origin) }

// SetCookie puts a cookie in the jar for the client's origin, as a planted
// or stolen one would be.
func (c *Client) SetCookie(ck *http.Cookie) { c.HTTP.Jar.SetCookies(c.origin, []*http.Cookie{ck}) }
