package hardening_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	_ "modernc.org/sqlite"

	"github.com/palisade-blog/palisade/internal/apptest"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/mongo/mongotest"
)

// TestBadInputCorpus throws malformed input at every route of the API and
// the website and checks, after each request:
//
//   - the answer is what the case expects (below), and never a 5xx;
//   - it came within the client's time-out (no hang);
//   - the server still answers GET /healthz;
//   - the stored users and posts are byte-for-byte as before (read both
//     through the store and straight from the database: the SQLite file,
//     the PostgreSQL tables or the MongoDB collections);
//   - if it was refused (a 4xx), the website sessions and revoked API
//     tokens are as many as before (counted where the application keeps
//     them: its database, or Redis);
//   - the heap in use has not grown by 100 MB or more.
//
// What a case expects follows one rule: bad input in a part of the request
// that the route reads (its body, its form fields, the query parameters it
// uses, the {id} in its path) is refused with a 4xx; input in a part it
// does not read may be ignored (any status below 500: GET /posts with an
// unknown query parameter is a 200). Malformed HTTP itself (NUL in the
// request line, a bad Content-Length, a 1 MB header) is refused by
// net/http whatever the route: 400, or 431 for the header.
//
// So that "ignored" can never mean "state changed", every request that
// could change data if its bad part were ignored is made by someone the
// change is refused to (another user deleting the owner's post) or, for a
// mutation of a part the route does not read, carries a body that is
// refused on its own (an empty title).
//
// A few inputs are deliberately absent: U+0000 written as an escape
// ("\u0000" in JSON, %00 in a form) inside a post's title or content is
// well-formed input that blog.CleanLine and blog.CleanText strip by design
// (see blog's FuzzPostInputClean), so a 2xx there is correct and would
// change state. The corpus sends NUL where it is malformed instead: raw in
// JSON, in usernames, IDs, paths, queries, keys and headers.
func TestBadInputCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus sends a few thousand requests; skipped with -short")
	}
	apptest.ForEachStore(t, func(t *testing.T, st apptest.Store) {
		// The full corpus runs on SQLite. On the other stores it runs the
		// cases that can take a store path of their own (see
		// reachesStore): the rest are refused by net/http or the body
		// limits before any store is called, or send what the route does
		// not read, and running them three times would triple the suite's
		// time under -race.
		runCorpus(t, st, st.Name == "SQLite")
	})
}

func runCorpus(t *testing.T, st apptest.Store, full bool) {
	// The harness itself first: on a separate server, each route's honest
	// request (the one the mutations start from) gets its usual answer,
	// so a 4xx in the corpus is the mutation's doing, not a broken
	// session, token or CSRF header.
	t.Run("harness", func(t *testing.T) {
		a := startCorpusApp(t, st)
		for _, rt := range corpusRoutes {
			req := a.request(t, rt, nil)
			resp, err := req.do(a.addr, 10*time.Second)
			if err != nil {
				t.Fatalf("%s %s: %v", rt.method, rt.path, err)
			}
			if resp.status != rt.good {
				t.Errorf("%s %s honest request: status %d, want %d\n%s", rt.method, rt.path, resp.status, rt.good, truncateBody(resp.body))
			}
			if rt.inert != nil {
				req := a.request(t, rt, &mutation{inert: true})
				resp, err := req.do(a.addr, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if resp.status < 400 || resp.status >= 500 {
					t.Errorf("%s %s inert request: status %d, want 4xx", rt.method, rt.path, resp.status)
				}
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	a := startCorpusApp(t, st)
	before, sessions := a.snapshot(t), a.sessions(t)
	baseHeap := heapInuse(true)
	const heapMargin = 100 << 20

	cases := 0
	start := time.Now()
	for _, rt := range corpusRoutes {
		for _, m := range mutationsFor(rt) {
			if !full && !reachesStore(rt, m) {
				continue
			}
			cases++
			name := rt.method + " " + rt.path + " " + m.name
			req := a.request(t, rt, &m)
			want := m.expect(rt)
			if rt.who == fresh {
				sessions = a.sessions(t) // a.request opened a new visit or signed in
			}
			resp, err := req.do(a.addr, 10*time.Second)
			switch {
			case err != nil:
				t.Errorf("%s: no answer (hang or reset): %v\n%s", name, err, req.describe())
			case !want.ok(resp.status):
				t.Errorf("%s: status %d, want %s\n%s\nanswer: %s", name, resp.status, want.name, req.describe(), truncateBody(resp.body))
			case resp.status >= 300 && resp.status < 400:
				// A redirect (ServeMux cleaning "..") stays on this site.
				if loc := resp.header.Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
					t.Errorf("%s: redirect to %q leaves the site", name, loc)
				}
			}
			if !a.healthy() {
				t.Fatalf("%s: server no longer answers /healthz", name)
			}
			// A refused request signs no one in or out: the honest ones
			// (and those whose bad part is ignored) may, so only a 4xx is
			// held to it.
			after := a.sessions(t)
			if resp != nil && resp.status >= 400 && resp.status < 500 && after != sessions {
				t.Errorf("%s: status %d but sessions or revocations changed: %s→ %s", name, resp.status, sessions, after)
			}
			sessions = after
			if after := a.snapshot(t); after != before {
				t.Errorf("%s: stored users or posts changed (status %d)\n%s", name, statusOf(resp), firstDiff(before, after))
				before = after // report each change once
			}
			if h := heapInuse(false); h > baseHeap+heapMargin {
				if h = heapInuse(true); h > baseHeap+heapMargin {
					t.Errorf("%s: heap in use %d MB, was %d MB before the corpus", name, h>>20, baseHeap>>20)
				}
			}
		}
	}
	t.Logf("%d cases in %v; heap in use %d MB → %d MB", cases, time.Since(start).Round(time.Millisecond), baseHeap>>20, heapInuse(true)>>20)
}

// reachesStore reports whether a case can take a path through the store
// other than the honest request's: a body the route decodes (whatever is
// left once the size and depth limits have refused the multi-megabyte and
// deeply nested ones), a query parameter or {id} that the route looks up,
// a token or session cookie that is looked up. It leaves out what net/http
// refuses before any handler runs (a bad method or Content-Length, a NUL
// or oversized header), a query or path segment the route does not read,
// and headers no store sees: code that is the same on every store.
func reachesStore(rt route, m mutation) bool {
	for _, part := range []string{"huge-3MiB", "deep-nesting"} {
		if strings.Contains(m.name, part) {
			return false
		}
	}
	switch {
	case strings.HasPrefix(m.name, "query/"):
		return len(rt.query) > 0
	case strings.HasPrefix(m.name, "path/"):
		return strings.Contains(rt.path, "{id}")
	case strings.HasPrefix(m.name, "header/"):
		for _, prefix := range []string{"header/authorization-", "header/session-cookie-", "header/csrf-"} {
			if strings.HasPrefix(m.name, prefix) {
				return true
			}
		}
		return false
	case strings.HasPrefix(m.name, "method/"), strings.HasPrefix(m.name, "content-length/"):
		return false
	}
	return true // the body
}

// ---- routes -----------------------------------------------------------

// who makes a request.
type who int

const (
	anonymous who = iota
	owner         // wrote the seeded post
	other         // another user: every change to the post is refused to them
	fresh         // API: a new token of the owner's; website: a new, anonymous session
)

// field is one body field: a JSON member or a form field. rawJSON or
// rawForm, when set, is sent verbatim instead of the encoded value.
type field struct {
	name, value      string
	rawJSON, rawForm string
}

// route is one route of Palisade as an honest client calls it.
type route struct {
	method, path string // path may hold {id}: the seeded post
	web          bool   // website (form, session cookie) or API (JSON, bearer token)
	who          who
	fields       []field // the honest body ("{user}" becomes a fresh username)
	// inert replaces fields for a mutation of a part the route does not
	// read: a body refused on its own, so ignoring the mutation cannot
	// change data.
	inert     []field
	query     []string // query parameters the route reads
	readsBody bool     // decodes the JSON body, or parses the form
	good      int      // status of the honest request
}

var (
	titleContent  = []field{{name: "title", value: "Corpus title"}, {name: "content", value: "Corpus content, long enough."}}
	emptyTitle    = []field{{name: "title", value: ""}, {name: "content", value: "Corpus content, long enough."}}
	newAccount    = []field{{name: "username", value: "{user}"}, {name: "password", value: apptest.Password}}
	badAccount    = []field{{name: "username", value: "x"}, {name: "password", value: "short"}}
	ownerLogin    = []field{{name: "username", value: "corpus_owner"}, {name: "password", value: apptest.Password}}
	ownerPassword = []field{{name: "password", value: apptest.Password}}
	secondStep    = []field{{name: "mfaToken", value: "not-a-token"}, {name: "code", value: "123456"}}
	corpusRoutes  = append(apiRoutes, webRoutes...)
	apiRoutes     = []route{
		{method: "POST", path: "/auth/register", fields: newAccount, inert: badAccount, readsBody: true, good: 201},
		{method: "POST", path: "/auth/login", fields: ownerLogin, readsBody: true, good: 200},
		{method: "POST", path: "/auth/logout", who: fresh, good: 204},
		{method: "GET", path: "/users/me", who: owner, good: 200},
		{method: "GET", path: "/posts", query: []string{"limit", "cursor"}, good: 200},
		{method: "POST", path: "/posts", who: owner, fields: titleContent, inert: emptyTitle, readsBody: true, good: 201},
		{method: "GET", path: "/posts/{id}", good: 200},
		{method: "PATCH", path: "/posts/{id}", who: owner, fields: titleContent, inert: emptyTitle, readsBody: true, good: 200},
		{method: "DELETE", path: "/posts/{id}", who: other, good: 403},
		{method: "POST", path: "/auth/reauth", who: fresh, fields: ownerPassword, readsBody: true, good: 200},
		// No sign-in is waiting for a second factor: the honest-looking
		// request is refused, and bad input must not change that.
		{method: "POST", path: "/auth/login/2fa", fields: secondStep, readsBody: true, good: 401},
	}
	webRoutes = []route{
		{method: "GET", path: "/", web: true, query: []string{"cursor"}, good: 200},
		{method: "GET", path: "/post/{id}", web: true, good: 200},
		{method: "GET", path: "/login", web: true, good: 200},
		{method: "POST", path: "/login", web: true, who: fresh, fields: ownerLogin, readsBody: true, good: 303},
		{method: "GET", path: "/register", web: true, good: 200},
		{method: "POST", path: "/register", web: true, who: fresh, fields: newAccount, inert: badAccount, readsBody: true, good: 303},
		{method: "GET", path: "/write", web: true, who: owner, good: 200},
		{method: "POST", path: "/write", web: true, who: owner, fields: titleContent, inert: emptyTitle, readsBody: true, good: 303},
		{method: "GET", path: "/post/{id}/edit", web: true, who: owner, good: 200},
		{method: "POST", path: "/post/{id}/edit", web: true, who: owner, fields: titleContent, inert: emptyTitle, readsBody: true, good: 303},
		{method: "GET", path: "/post/{id}/delete", web: true, who: owner, good: 200},
		{method: "POST", path: "/post/{id}/delete", web: true, who: other, readsBody: true, good: 403},
		{method: "POST", path: "/logout", web: true, who: fresh, readsBody: true, good: 303},
		{method: "GET", path: "/feed.xml", web: true, good: 200},
		{method: "GET", path: "/sitemap.xml", web: true, good: 200},
		{method: "GET", path: "/robots.txt", web: true, good: 200},
		{method: "GET", path: "/account", web: true, who: owner, good: 200},
		{method: "GET", path: "/login/2fa", web: true, who: fresh, good: 303},
		// No sign-in waits for a code: sent back to /login, whatever the body.
		{method: "POST", path: "/login/2fa", web: true, who: fresh, good: 303},
		{method: "POST", path: "/account/reauth", web: true, who: owner, fields: ownerPassword, readsBody: true, good: 303},
		// The corpus has no setup token (only serve's console does): the
		// honest request is refused too, and bad input must not change that.
		{method: "GET", path: "/setup", web: true, query: []string{"token"}, good: 403},
		{method: "POST", path: "/setup", web: true, who: fresh, fields: newAccount, inert: badAccount, readsBody: true, good: 403},
	}
)

// ---- mutations --------------------------------------------------------

// expectation is a set of acceptable statuses.
type expectation struct {
	name string
	ok   func(status int) bool
}

var (
	want4xx      = expectation{"a 4xx", func(s int) bool { return s >= 400 && s < 500 }}
	want400      = expectation{"400", func(s int) bool { return s == 400 }}
	want431      = expectation{"431", func(s int) bool { return s == 431 }}
	wantNot5xx   = expectation{"2xx to 4xx (never 5xx)", func(s int) bool { return s >= 200 && s < 500 }}
	want3xxOr4xx = expectation{"a redirect or a 4xx", func(s int) bool { return s >= 300 && s < 500 }}
)

// caseReq is a request under construction.
type caseReq struct {
	method        string
	id            string // the seeded post's ID
	path, query   string // raw, as sent; path "" is the route's own
	header        [][2]string
	fields        []field
	body          []byte // when set, sent instead of the encoded fields
	contentType   string // when set, replaces the route's
	contentLength string
	stream        int
}

// mutation corrupts one part of a route's honest request.
type mutation struct {
	name   string
	apply  func(c *caseReq, rt route)
	expect func(rt route) expectation
	// inert: send the route's inert body (the mutation is somewhere the
	// route does not read).
	inert bool
	// only, when set, limits the mutation to the routes it is true of.
	only func(route) bool
}

func hasField(name string) func(route) bool {
	return func(rt route) bool {
		for _, f := range rt.fields {
			if f.name == name {
				return true
			}
		}
		return false
	}
}

func always(e expectation) func(route) expectation { return func(route) expectation { return e } }

// ifReadsBody: 4xx from routes that read the body, anything but a 5xx from
// the others.
func ifReadsBody(rt route) expectation {
	if rt.readsBody {
		return want4xx
	}
	return wantNot5xx
}

func ifReadsQuery(params ...string) func(route) expectation {
	return func(rt route) expectation {
		for _, p := range params {
			for _, q := range rt.query {
				if p == q {
					return want4xx
				}
			}
		}
		return wantNot5xx
	}
}

// mutationsFor lists every mutation that applies to rt.
func mutationsFor(rt route) []mutation {
	var ms []mutation
	// Body: per field, then the body as a whole.
	if rt.fields != nil {
		for i, f := range rt.fields {
			for _, fm := range fieldMutations(rt.web) {
				i, fm := i, fm
				ms = append(ms, mutation{
					name:   "body." + f.name + "/" + fm.name,
					apply:  func(c *caseReq, rt route) { fm.apply(c, i) },
					expect: func(route) expectation { return want4xx },
				})
			}
		}
	} else {
		// A body the route never reads: a field it does not know, corrupted.
		for _, fm := range fieldMutations(rt.web) {
			fm := fm
			ms = append(ms, mutation{
				name: "unread-body/" + fm.name,
				apply: func(c *caseReq, rt route) {
					c.fields = []field{{name: "note", value: "unread"}}
					fm.apply(c, 0)
				},
				expect: func(rt route) expectation {
					if fm.breaksForm && rt.readsBody {
						return want4xx // the form is parsed (for the CSRF token) and fails
					}
					return wantNot5xx
				},
			})
		}
	}
	if rt.web {
		ms = append(ms, formMutations...)
	} else {
		ms = append(ms, jsonMutations...)
	}
	ms = append(ms, markdownMutations...)
	ms = append(ms, queryMutations...)
	ms = append(ms, pathMutations...)
	ms = append(ms, headerMutations...)
	ms = append(ms, methodMutations...)
	ms = append(ms, framingMutations...)
	out := ms[:0]
	for _, m := range ms {
		if m.only == nil || m.only(rt) {
			out = append(out, m)
		}
	}
	return out
}

type fieldMutation struct {
	name       string
	apply      func(c *caseReq, i int)
	breaksForm bool // makes the whole form unparseable
}

// fieldMutations corrupt the value of field i: for the API as JSON, for
// the website as a URL-encoded form.
func fieldMutations(web bool) []fieldMutation {
	appendJSON := func(name, raw string) fieldMutation {
		return fieldMutation{name: name, apply: func(c *caseReq, i int) {
			q, _ := json.Marshal(c.fields[i].value)
			c.fields[i].rawJSON = string(q[:len(q)-1]) + raw + `"`
		}}
	}
	replaceJSON := func(name, raw string) fieldMutation {
		return fieldMutation{name: name, apply: func(c *caseReq, i int) { c.fields[i].rawJSON = raw }}
	}
	appendForm := func(name, raw string, breaks bool) fieldMutation {
		return fieldMutation{name: name, breaksForm: breaks, apply: func(c *caseReq, i int) {
			c.fields[i].rawForm = url.QueryEscape(c.fields[i].value) + raw
		}}
	}
	if !web {
		return []fieldMutation{
			appendJSON("invalid-utf8", "\xff\xfe"),
			appendJSON("overlong-utf8-C0AF", "\xc0\xaf"),
			appendJSON("utf8-surrogate", "\xed\xa0\x80"),
			appendJSON("raw-nul", "\x00"),
			appendJSON("raw-newline", "\n"),
			replaceJSON("number-for-string", "12345"),
			replaceJSON("float-for-string", "1e309"),
			replaceJSON("bool-for-string", "true"),
			replaceJSON("array-for-string", `["a"]`),
			replaceJSON("operator-object", `{"$gt":""}`),
			replaceJSON("deep-nesting-100000", strings.Repeat("[", 100_000)),
			replaceJSON("deep-nesting-closed-10000", strings.Repeat("[", 10_000)+strings.Repeat("]", 10_000)),
			replaceJSON("huge-3MiB", `"`+strings.Repeat("a", 3<<20)+`"`),
			{name: "duplicate-key", apply: func(c *caseReq, i int) {
				c.fields = append(c.fields, field{name: c.fields[i].name, value: "Duplicate value, also long."})
			}},
			{name: "case-variant-key", apply: func(c *caseReq, i int) {
				c.fields[i].name = strings.ToUpper(c.fields[i].name[:1]) + c.fields[i].name[1:]
			}},
			{name: "nul-in-key", apply: func(c *caseReq, i int) { c.fields[i].name += "\x00" }},
			{name: "escaped-nul-in-key", apply: func(c *caseReq, i int) { c.fields[i].name += `\u0000` }},
			{name: "invalid-utf8-in-key", apply: func(c *caseReq, i int) { c.fields[i].name += "\xff" }},
		}
	}
	return []fieldMutation{
		appendForm("invalid-utf8-escaped", "%FF%FE", false),
		appendForm("invalid-utf8-raw", "\xff\xfe", false),
		appendForm("overlong-utf8-C0AF", "%C0%AF", false),
		appendForm("utf8-surrogate", "%ED%A0%80", false),
		appendForm("bad-escape", "%ZZ", true),
		appendForm("semicolon", ";x=1", true),
		appendForm("huge-3MiB", strings.Repeat("a", 3<<20), true),
	}
}

// markdownMutations are post contents that are valid text but would cost
// far more to render than to send: each is refused with a 400 before it is
// rendered in full (see internal/markdown's limits).
var markdownMutations = []mutation{
	// 2.4 KB that goldmark padded to 3.1 MB of HTML.
	content("table-bomb-100x1000", strings.Repeat("|a", 100)+"|\n"+strings.Repeat("|-", 100)+"|\n"+strings.Repeat("|\n", 1000)),
	content("list-nesting-50000", strings.Repeat("- ", 49_999)+"a"),
	content("ordered-list-nesting-30000", strings.Repeat("1. ", 30_000)+"a"),
	content("quote-nesting-50000", strings.Repeat(">", 50_000)),
	content("bracket-run-50000", strings.Repeat("[", 50_000)),
	content("empty-link-run-16000", strings.Repeat("[](", 16_000)),
	content("image-run-8000", strings.Repeat("![](", 8_000)),
	content("emphasis-run-20000", strings.Repeat("a* ", 20_000)),
	content("underscore-run-25000", strings.Repeat("_a", 25_000)),
	content("reference-repeated", "[a]: https://example.com/"+strings.Repeat("x", 2000)+"\n\n"+strings.Repeat("[a]\n\n", 5000)),
}

// content replaces the "content" field of the routes that have one.
func content(name, value string) mutation {
	return mutation{
		name: "body.content/markdown-" + name,
		only: hasField("content"),
		apply: func(c *caseReq, rt route) {
			for i := range c.fields {
				if c.fields[i].name == "content" {
					c.fields[i].value = value
				}
			}
		},
		expect: always(want400),
	}
}

var jsonMutations = []mutation{
	{name: "body/deep-nesting-100000", apply: func(c *caseReq, rt route) { c.body = bytes.Repeat([]byte("["), 100_000) }, expect: ifReadsBody},
	{name: "body/deep-nesting-object", apply: func(c *caseReq, rt route) {
		c.body = []byte(strings.Repeat(`{"a":`, 50_000) + "1" + strings.Repeat("}", 50_000))
	}, expect: ifReadsBody},
	{name: "body/empty", apply: func(c *caseReq, rt route) { c.body = []byte{}; c.fields = nil }, expect: ifReadsBody},
	{name: "body/null", apply: func(c *caseReq, rt route) { c.body = []byte("null") }, expect: ifReadsBody},
	{name: "body/array", apply: func(c *caseReq, rt route) { c.body = []byte(`[{"title":"a"}]`) }, expect: ifReadsBody},
	{name: "body/number", apply: func(c *caseReq, rt route) { c.body = []byte(`12345`) }, expect: ifReadsBody},
	{name: "body/string", apply: func(c *caseReq, rt route) { c.body = []byte(`"12345"`) }, expect: ifReadsBody},
	{name: "body/invalid-utf8", apply: func(c *caseReq, rt route) { c.body = []byte("\xff\xfe{}") }, expect: ifReadsBody},
	{name: "body/utf16-bom", apply: func(c *caseReq, rt route) { c.body = []byte("\xfe\xff\x00{\x00}") }, expect: ifReadsBody},
	{name: "body/raw-nul", apply: func(c *caseReq, rt route) { c.body = []byte("\x00") }, expect: ifReadsBody},
	{name: "body/trailing-object", apply: func(c *caseReq, rt route) {
		b := encodeJSON(c.fields)
		c.body = append(b, b...)
	}, expect: ifReadsBody},
	{name: "body/trailing-garbage", apply: func(c *caseReq, rt route) { c.body = append(encodeJSON(c.fields), "garbage"...) }, expect: ifReadsBody},
	{name: "body/unknown-field-role", apply: func(c *caseReq, rt route) {
		c.fields = append(c.fields, field{name: "role", rawJSON: `"admin"`})
	}, expect: ifReadsBody},
	{name: "body/unknown-field-authorId", apply: func(c *caseReq, rt route) {
		c.fields = append(c.fields, field{name: "authorId", value: "aaaaaaaaaaaaaaaaaaaaaaaaaa"})
	}, expect: ifReadsBody},
	{name: "body/10000-keys", apply: func(c *caseReq, rt route) {
		for i := range 10_000 {
			c.fields = append(c.fields, field{name: "k" + strconv.Itoa(i), value: "v"})
		}
	}, expect: ifReadsBody},
	{name: "body/huge-3MiB-whitespace", apply: func(c *caseReq, rt route) {
		c.body = append(bytes.Repeat([]byte(" "), 3<<20), encodeJSON(c.fields)...)
	}, expect: ifReadsBody},
	{name: "header/content-type-text", apply: func(c *caseReq, rt route) { c.contentType = "text/plain" }, expect: ifReadsBody},
	{name: "header/content-type-invalid-utf8", apply: func(c *caseReq, rt route) { c.contentType = "application/json; charset=\xff\xfe" }, expect: ifReadsBody},
	// RFC 8259 gives application/json no charset parameter: ignoring it
	// and reading UTF-8 is right, so this one takes the inert body.
	{name: "header/content-type-json-utf16", apply: func(c *caseReq, rt route) { c.contentType = "application/json; charset=utf-16" }, expect: always(wantNot5xx), inert: true},
}

var formMutations = []mutation{
	{name: "body/10001-fields", apply: func(c *caseReq, rt route) {
		for i := range 10_001 {
			c.fields = append(c.fields, field{name: "f" + strconv.Itoa(i), value: "v"})
		}
	}, expect: ifReadsBody},
	{name: "body/json-instead-of-form", apply: func(c *caseReq, rt route) {
		c.body, c.contentType = encodeJSON(c.fields), "application/json"
	}, expect: func(rt route) expectation {
		if rt.fields != nil {
			return want4xx // the fields are not read from JSON: empty, refused
		}
		return wantNot5xx
	}},
	{name: "body.username/nul-escaped", only: hasField("username"), apply: func(c *caseReq, rt route) {
		for i, f := range c.fields {
			if f.name == "username" {
				c.fields[i].rawForm = url.QueryEscape(f.value) + "%00"
			}
		}
	}, expect: always(want4xx)},
}

// queryMutations corrupt the query string. Where the route reads none of
// the corrupted parameters, the body is the inert one.
var queryMutations = []mutation{
	q("invalid-utf8-escaped", "limit=%FF&cursor=%FF%FE", ifReadsQuery("limit", "cursor")),
	q("invalid-utf8-raw", "cursor=\xff\xfe", ifReadsQuery("cursor")),
	q("overlong-utf8-C0AF", "cursor=%C0%AF", ifReadsQuery("cursor")),
	q("nul-escaped", "limit=1%00&cursor=%00", ifReadsQuery("limit", "cursor")),
	q("nul-raw", "cursor=\x00", always(want400)),
	q("10000-params", manyParams(10_000), always(wantNot5xx)),
	q("10001-params-bad-limit-and-cursor", manyParams(10_000)+"&limit=abc&cursor=abc", ifReadsQuery("limit", "cursor")),
	q("semicolon-hides-bad-limit-and-cursor", "limit=abc;x=1&cursor=abc;x=1", ifReadsQuery("limit", "cursor")),
	q("limit-huge", "limit=99999999999999999999999", ifReadsQuery("limit")),
	q("limit-maxint64", "limit=9223372036854775807", ifReadsQuery("limit")),
	q("limit-101", "limit=101", ifReadsQuery("limit")),
	q("limit-negative", "limit=-1", ifReadsQuery("limit")),
	q("limit-min-int64", "limit=-9223372036854775808", ifReadsQuery("limit")),
	q("limit-zero", "limit=0", ifReadsQuery("limit")),
	q("limit-quoted-string", "limit=%2210%22", ifReadsQuery("limit")),
	q("limit-float", "limit=10.0", ifReadsQuery("limit")),
	q("limit-exponent", "limit=1e1", ifReadsQuery("limit")),
	q("limit-hex", "limit=0x10", ifReadsQuery("limit")),
	q("limit-leading-space", "limit=%2010", ifReadsQuery("limit")),
	q("limit-word", "limit=ten", ifReadsQuery("limit")),
	q("limit-empty-array", "limit[]=10&limit=abc", ifReadsQuery("limit")),
	q("cursor-traversal", "cursor=..%2F..%2Fetc%2Fpasswd", ifReadsQuery("cursor")),
	q("cursor-10000-chars", "cursor="+strings.Repeat("A", 10_000), ifReadsQuery("cursor")),
	q("cursor-sql", "cursor=%27%20OR%201%3D1--", ifReadsQuery("cursor")),
}

func q(name, query string, expect func(route) expectation) mutation {
	return mutation{name: "query/" + name, apply: func(c *caseReq, rt route) { c.query = query }, expect: expect, inert: true}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "p%d=%d", i, i)
	}
	return b.String()
}

// pathMutations replace {id}, or add a segment to a route without one.
var pathMutations = []mutation{
	p("invalid-utf8-escaped", func(string) string { return "%FF%FE" }, want4xx),
	p("invalid-utf8-raw", func(string) string { return "\xff\xfe" }, want4xx),
	p("nul-escaped", func(string) string { return "%00" }, want4xx),
	p("nul-raw", func(string) string { return "\x00" }, want400),
	p("overlong-utf8-C0AF", func(id string) string { return id + "%C0%AF" }, want4xx),
	p("overlong-utf8-traversal", func(string) string { return "..%C0%AF..%C0%AFetc%C0%AFpasswd" }, want4xx),
	p("traversal-raw", func(id string) string { return "../" + id }, want3xxOr4xx),
	p("traversal-raw-deep", func(string) string { return "../../../../etc/passwd" }, want3xxOr4xx),
	p("traversal-escaped", func(id string) string { return "%2e%2e%2f" + id }, want3xxOr4xx),
	p("traversal-escaped-deep", func(string) string { return "%2e%2e%2f%2e%2e%2fetc%2fpasswd" }, want3xxOr4xx),
	p("traversal-escaped-slash", func(id string) string { return "..%2f" + id }, want3xxOr4xx),
	p("dotdot-escaped", func(string) string { return "%2e%2e" }, want3xxOr4xx),
	p("double-escaped-traversal", func(string) string { return "%252e%252e%252fetc" }, want4xx),
	p("backslash-traversal", func(string) string { return "..%5c..%5cetc%5cpasswd" }, want4xx),
	p("id-upper-case", func(id string) string { return strings.ToUpper(id) }, want4xx),
	p("id-10000-chars", func(string) string { return strings.Repeat("a", 10_000) }, want4xx),
	p("id-sql", func(string) string { return "%27%20OR%20%271%27%3D%271" }, want4xx),
	p("id-with-suffix", func(id string) string { return id + "%20" }, want4xx),
}

func p(name string, seg func(id string) string, want expectation) mutation {
	return mutation{name: "path/" + name, apply: func(c *caseReq, rt route) {
		if strings.Contains(rt.path, "{id}") {
			c.path = strings.Replace(rt.path, "{id}", seg(c.id), 1)
		} else {
			c.path = strings.TrimSuffix(rt.path, "/") + "/" + seg("aaaaaaaaaaaaaaaaaaaaaaaaaa")
		}
	}, expect: always(want)}
}

var headerMutations = []mutation{
	{name: "header/1MB-single-line", apply: func(c *caseReq, rt route) {
		// Above net/http's default limit (1 MiB + 4 KiB slack) that the
		// test server keeps; production's is 64 KiB (server.MaxHeaderBytes).
		c.header = append(c.header, [2]string{"X-Padding", strings.Repeat("a", 1<<20+16<<10)})
	}, expect: always(want431)},
	{name: "header/nul-in-value", apply: func(c *caseReq, rt route) {
		c.header = append(c.header, [2]string{"X-Test", "a\x00b"})
	}, expect: always(want400)},
	{name: "header/invalid-utf8-in-value", apply: func(c *caseReq, rt route) {
		c.header = append(c.header, [2]string{"X-Test", "\xff\xfe\xc0\xaf"})
	}, expect: always(wantNot5xx), inert: true},
	{name: "header/authorization-invalid-utf8", apply: func(c *caseReq, rt route) {
		c.header = setHeader(c.header, "Authorization", "Bearer \xff\xfe.\xc0\xaf.\x80")
	}, expect: func(rt route) expectation {
		if !rt.web && (rt.who == owner || rt.who == other || rt.who == fresh) {
			return want4xx
		}
		return wantNot5xx
	}, inert: true},
	{name: "header/authorization-10000-chars", apply: func(c *caseReq, rt route) {
		c.header = setHeader(c.header, "Authorization", "Bearer "+strings.Repeat("a", 10_000))
	}, expect: func(rt route) expectation {
		if !rt.web && (rt.who == owner || rt.who == other || rt.who == fresh) {
			return want4xx
		}
		return wantNot5xx
	}, inert: true},
	{name: "header/session-cookie-garbage", apply: func(c *caseReq, rt route) {
		c.header = setHeader(c.header, "Cookie", "palisade_session=\xff\xfe%00"+strings.Repeat("a", 4000))
	}, expect: func(rt route) expectation {
		if rt.web && rt.method == "POST" {
			return want4xx // no session, so no CSRF secret: refused
		}
		return wantNot5xx // a visitor without a session
	}, inert: true},
	{name: "header/csrf-invalid-utf8", apply: func(c *caseReq, rt route) {
		c.header = setHeader(c.header, "X-CSRF-Token", "\xff\xfe\xc0\xaf")
	}, expect: func(rt route) expectation {
		if rt.web && rt.method == "POST" {
			return want4xx
		}
		return wantNot5xx
	}, inert: true},
}

func setHeader(h [][2]string, name, value string) [][2]string {
	out := h[:0:0]
	for _, kv := range h {
		if !strings.EqualFold(kv[0], name) {
			out = append(out, kv)
		}
	}
	return append(out, [2]string{name, value})
}

var methodMutations = []mutation{
	method("PROPFIND"), method("TRACE"), method("CONNECT"), method("get"), method("FOO-BAR"),
	method("G\xffT"), method("GET\x00"), method(strings.Repeat("A", 10_000)),
}

func method(m string) mutation {
	name := m
	if len(name) > 16 {
		name = fmt.Sprintf("%d-chars", len(m))
	}
	return mutation{name: "method/" + strconv.QuoteToASCII(name), apply: func(c *caseReq, rt route) { c.method = m }, expect: always(want4xx)}
}

var framingMutations = []mutation{
	cl("overflow", "99999999999999999999999", always(want400)),
	cl("negative", "-1", always(want400)),
	cl("hex", "0x10", always(want400)),
	cl("plus-sign", "+1", always(want400)),
	cl("conflicting", "0, 1", always(want400)),
	{name: "content-length/1TiB-streaming", apply: func(c *caseReq, rt route) {
		c.contentLength, c.stream = "1099511627776", 3<<20
	}, expect: ifReadsBody},
}

func cl(name, value string, expect func(route) expectation) mutation {
	return mutation{name: "content-length/" + name, apply: func(c *caseReq, rt route) { c.contentLength = value }, expect: expect}
}

// ---- the application under test ----------------------------------------

type corpusApp struct {
	srv    *apptest.Server
	addr   string
	raw    rawDB
	postID string
	users  []string // IDs of the seeded users
	tokens map[who]string
	web    map[who]webSession
	n      int
}

type webSession struct{ cookie, csrf string }

// startCorpusApp starts the application on st, with two users and a post
// of the owner's.
func startCorpusApp(t *testing.T, st apptest.Store) *corpusApp {
	t.Helper()
	srv := st.Start(t, map[string]string{
		"PALISADE_RATE_LIMIT":       "100000000/15m",
		"PALISADE_LOGIN_RATE_LIMIT": "100000000/15m",
		// The corpus registers accounts through both front doors.
		"PALISADE_REGISTRATION": "open",
	})
	a := &corpusApp{srv: srv, addr: strings.TrimPrefix(srv.URL, "http://"), tokens: map[who]string{}, web: map[who]webSession{}}
	a.raw = openRaw(t, srv.Config)

	for _, u := range []struct {
		w    who
		name string
	}{{owner, "corpus_owner"}, {other, "corpus_other"}} {
		var reg struct{ User struct{ ID string } }
		a.apiJSON(t, "POST", "/auth/register", "", map[string]string{"username": u.name, "password": apptest.Password}, 201, &reg)
		a.users = append(a.users, reg.User.ID)
		var tok struct{ Token string }
		a.apiJSON(t, "POST", "/auth/login", "", map[string]string{"username": u.name, "password": apptest.Password}, 200, &tok)
		a.tokens[u.w] = tok.Token
		a.web[u.w] = a.webLogin(t, u.name)
	}
	var created struct{ Post struct{ ID string } }
	a.apiJSON(t, "POST", "/posts", a.tokens[owner], map[string]string{"title": "Seeded post", "content": "Seeded content, unchanged."}, 201, &created)
	a.postID = created.Post.ID
	return a
}

// login returns a new API token of the owner's (for a sign-out).
func (a *corpusApp) login(t *testing.T) string {
	t.Helper()
	var tok struct{ Token string }
	a.apiJSON(t, "POST", "/auth/login", "", map[string]string{"username": "corpus_owner", "password": apptest.Password}, 200, &tok)
	return tok.Token
}

// apiJSON sends body as JSON, fails the test unless the answer has the
// status want, and decodes it into out unless out is nil.
func (a *corpusApp) apiJSON(t *testing.T, method, path, token string, body any, want int, out any) {
	t.Helper()
	r := apptest.NewClient(t, a.srv.URL).Do(t, apptest.Request{Method: method, Path: path, Token: token, Body: body}).Want(t, want)
	if out != nil {
		r.JSON(t, out)
	}
}

// webLogin signs username in on the website (or, if username is empty,
// only loads the sign-in form as a new visitor) and returns the cookies
// and CSRF token a browser would then send.
func (a *corpusApp) webLogin(t *testing.T, username string) webSession {
	t.Helper()
	c := apptest.NewClient(t, a.srv.URL)
	csrf := c.CSRFToken(t, "/login")
	if username != "" {
		c.PostForm(t, "/login", url.Values{"_csrf": {csrf}, "username": {username}, "password": {apptest.Password}}, nil)
		tok, ok := apptest.CSRFField(c.Page(t, "/write").Text())
		if !ok {
			t.Fatalf("sign-in of %s on the website failed", username)
		}
		csrf = tok
	}
	// Every cookie the site set: the session's and, for a visitor who is
	// not signed in, the CSRF cookie.
	var cookies []string
	for _, ck := range c.Cookies() {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	if len(cookies) == 0 {
		t.Fatal("the website set no cookie")
	}
	return webSession{cookie: strings.Join(cookies, "; "), csrf: csrf}
}

// request builds rt's request with m applied (m may be nil: the honest
// request).
func (a *corpusApp) request(t *testing.T, rt route, m *mutation) rawRequest {
	t.Helper()
	c := &caseReq{method: rt.method, id: a.postID}
	fields := rt.fields
	if m != nil && m.inert && rt.inert != nil {
		fields = rt.inert
	}
	for _, f := range fields {
		if f.value == "{user}" {
			a.n++
			f.value = fmt.Sprintf("corpus_%d", a.n)
		}
		c.fields = append(c.fields, f)
	}
	if rt.web {
		c.header = append(c.header, [2]string{"Accept", "text/html"})
		var s webSession
		switch rt.who {
		case owner, other:
			s = a.web[rt.who]
		case fresh:
			s = a.webLogin(t, "")
		}
		if s.cookie != "" {
			c.header = append(c.header, [2]string{"Cookie", s.cookie})
		}
		if rt.method == "POST" {
			c.header = append(c.header, [2]string{"Origin", a.srv.URL}, [2]string{"Sec-Fetch-Site", "same-origin"})
			if s.csrf != "" {
				c.header = append(c.header, [2]string{"X-CSRF-Token", s.csrf})
			}
		}
	} else {
		c.header = append(c.header, [2]string{"Accept", "application/json"})
		tok := a.tokens[rt.who]
		if rt.who == fresh {
			tok = a.login(t)
		}
		if tok != "" {
			c.header = append(c.header, [2]string{"Authorization", "Bearer " + tok})
		}
	}
	if m != nil && m.apply != nil {
		m.apply(c, rt)
	}
	target := c.path
	if target == "" {
		target = strings.Replace(rt.path, "{id}", a.postID, 1)
	}
	if c.query != "" {
		target += "?" + c.query
	}

	body := c.body
	ct := ""
	if body == nil && c.fields != nil {
		if rt.web {
			body, ct = encodeForm(c.fields), "application/x-www-form-urlencoded"
		} else {
			body, ct = encodeJSON(c.fields), "application/json"
		}
	} else if len(body) > 0 {
		ct = "application/json"
		if rt.web {
			ct = "application/x-www-form-urlencoded"
		}
	}
	if ct == "" && rt.web && c.method == "POST" {
		ct = "application/x-www-form-urlencoded" // a form without fields, as a browser sends it
	}
	if c.contentType != "" {
		ct = c.contentType
	}
	if ct != "" {
		c.header = append(c.header, [2]string{"Content-Type", ct})
	}
	return rawRequest{method: c.method, target: target, header: c.header, body: body, contentLength: c.contentLength, stream: c.stream}
}

func encodeJSON(fields []field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f.name + `":`)
		if f.rawJSON != "" {
			b.WriteString(f.rawJSON)
		} else {
			v, _ := json.Marshal(f.value)
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func encodeForm(fields []field) []byte {
	var b bytes.Buffer
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f.name) + "=")
		if f.rawForm != "" {
			b.WriteString(f.rawForm)
		} else {
			b.WriteString(url.QueryEscape(f.value))
		}
	}
	return b.Bytes()
}

func (a *corpusApp) healthy() bool {
	resp, err := rawRequest{method: "GET", target: "/healthz"}.do(a.addr, 5*time.Second)
	return err == nil && resp.status == http.StatusOK
}

// snapshot is every stored user and post: read through the store (as the
// application sees them) and straight from the database (openRaw: every
// column or field, so a new user or a changed hash shows too).
func (a *corpusApp) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, id := range a.users {
		u, err := a.srv.Store.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		_, hash, err := a.srv.Store.Credentials(ctx, u.Username)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "store user %#v %q\n", u, hash)
	}
	page := blog.Page{Limit: blog.MaxPageLimit}
	for {
		posts, next, err := a.srv.Store.ListPosts(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range posts {
			j, _ := json.Marshal(p)
			fmt.Fprintf(&b, "store post %s\n", j)
		}
		if next == nil {
			break
		}
		page.After = next
	}
	if err := a.raw.dump(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rawDB reads the database straight, past the store's code.
type rawDB struct {
	// dump writes every stored user and post, all their columns or
	// fields: a new user or a changed hash shows even where the store's
	// methods would not show it.
	dump func(ctx context.Context, b *strings.Builder) error
	// sessions counts the website sessions and revoked API tokens, where
	// the application keeps them (Redis when it is configured).
	sessions func(ctx context.Context) (string, error)
}

func openRaw(t *testing.T, cfg *config.Config) rawDB {
	t.Helper()
	var raw rawDB
	if cfg.UsesMongo() {
		cs, err := connstring.ParseAndValidate(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		client, err := mongotest.Client(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Disconnect(context.Background()) }) // a test's connection; nothing to do on failure
		db := client.Database(cs.Database)
		raw.dump = func(ctx context.Context, b *strings.Builder) error {
			for _, coll := range []string{"users", "posts"} {
				cur, err := db.Collection(coll).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
				if err != nil {
					return fmt.Errorf("read %s: %w", coll, err)
				}
				for cur.Next(ctx) {
					fmt.Fprintf(b, "document %s %s\n", coll, cur.Current)
				}
				err = cur.Err()
				_ = cur.Close(ctx) // fully read; an error closing it changes nothing read
				if err != nil {
					return fmt.Errorf("read %s: %w", coll, err)
				}
			}
			return nil
		}
		raw.sessions = func(ctx context.Context) (string, error) {
			var out string
			for _, coll := range []string{"sessions", "revokedTokens"} {
				n, err := db.Collection(coll).CountDocuments(ctx, bson.D{})
				if err != nil {
					return "", fmt.Errorf("count %s: %w", coll, err)
				}
				out += fmt.Sprintf("%s=%d ", coll, n)
			}
			return out, nil
		}
	} else {
		var db *sql.DB
		var err error
		if cfg.UsesPostgres() {
			db, err = sql.Open("pgx", cfg.DatabaseURL)
		} else {
			db, err = sql.Open("sqlite", "file:"+cfg.SQLitePath()+"?mode=ro&_pragma=busy_timeout(5000)")
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() }) // a test's read-only handle; nothing to do on failure
		raw.dump = func(ctx context.Context, b *strings.Builder) error {
			for _, table := range []string{"users", "posts"} {
				if err := dumpTable(ctx, db, table, b); err != nil {
					return fmt.Errorf("read %s: %w", table, err)
				}
			}
			return nil
		}
		raw.sessions = func(ctx context.Context) (string, error) {
			var out string
			for _, table := range []string{"sessions", "revoked_tokens"} {
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
					return "", fmt.Errorf("count %s: %w", table, err)
				}
				out += fmt.Sprintf("%s=%d ", table, n)
			}
			return out, nil
		}
	}
	if cfg.RedisURL != "" {
		// Sessions and revocations live in Redis, under the test's prefix.
		ro, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			t.Fatal(err)
		}
		rdb := goredis.NewClient(ro)
		t.Cleanup(func() { _ = rdb.Close() }) // a test's connection; nothing to do on failure
		raw.sessions = func(ctx context.Context) (string, error) {
			var out string
			for _, ns := range []string{"sess:", "rev:"} {
				n := 0
				it := rdb.Scan(ctx, 0, cfg.RedisPrefix+ns+"*", 1000).Iterator()
				for it.Next(ctx) {
					n++
				}
				if err := it.Err(); err != nil {
					return "", fmt.Errorf("count redis %s keys: %w", ns, err)
				}
				out += fmt.Sprintf("redis %s%d ", ns, n)
			}
			return out, nil
		}
	}
	return raw
}

func dumpTable(ctx context.Context, db *sql.DB, table string, b *strings.Builder) error {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY id")
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }() // rows.Err below reports what matters
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		fmt.Fprintf(b, "row %s", table)
		for i, v := range vals {
			fmt.Fprintf(b, " %s=%q", cols[i], fmt.Sprint(v))
		}
		b.WriteByte('\n')
	}
	return rows.Err()
}

// sessions counts the stored sessions and revoked tokens.
func (a *corpusApp) sessions(t *testing.T) string {
	t.Helper()
	n, err := a.raw.sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func heapInuse(gc bool) uint64 {
	if gc {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func firstDiff(before, after string) string {
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	for i := 0; i < max(len(bl), len(al)); i++ {
		var x, y string
		if i < len(bl) {
			x = bl[i]
		}
		if i < len(al) {
			y = al[i]
		}
		if x != y {
			return fmt.Sprintf("before: %s\nafter:  %s", quote(x), quote(y))
		}
	}
	return "(no line differs)"
}

func statusOf(r *rawResponse) int {
	if r == nil {
		return 0
	}
	return r.status
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
