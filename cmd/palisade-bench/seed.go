package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/palisade-blog/palisade/internal/app"
	"github.com/palisade-blog/palisade/internal/auth"
	"github.com/palisade-blog/palisade/internal/blog"
	"github.com/palisade-blog/palisade/internal/config"
	"github.com/palisade-blog/palisade/internal/markdown"
)

// The account that signs in during the run. Every other seeded user gets
// fixedHash, whose password nobody knows, so seeding costs one argon2id
// hash rather than a hundred.
const (
	benchUsername = "bench"
	benchPassword = "palisade-bench-load-test-password"
	fixedHash     = "$argon2id$v=19$m=19456,t=2,p=1$qyxCa5rYLEmTepYfHuTE8w$L1XrpPa40Ogf/Ce4tbYEeXHx2UoTKSBAb3mLzb1fdv8"
)

// maxUniqueBodies is the largest seed that renders a new body for every
// post; past it (--scale) posts reuse a pool of rendered bodies, so that a
// million posts take minutes rather than an hour.
const (
	maxUniqueBodies = 20_000
	bodyPool        = 1_000
	idSample        = 10_000 // IDs written for the random GET /posts/{id} scripts
)

// seeded describes the database the run uses.
type seeded struct {
	dataDir, dbPath string
	users, posts    int
	uniqueBodies    int
	took            time.Duration
	idsFile         string // post IDs, one a line, for random GET /posts/{id}
	contentFile     string // a Markdown body as a JSON string, for POST /posts
	deepCursor      string // cursor of the post half-way down the feed
	deepPosition    int    // its position, newest first
}

// seed creates a fresh database in dataDir through the store: users, then
// posts spread over them, newest last.
func seed(ctx context.Context, dataDir, tmp string, o *options) (*seeded, error) {
	began := time.Now()
	// The database is opened as the server under test will open it: from
	// a configuration naming only the data directory.
	env := map[string]string{"PALISADE_DATA_DIR": dataDir}
	cfg, err := config.Load("migrate", nil, func(k string) string { return env[k] }, "", io.Discard)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	s := &seeded{dataDir: dataDir, dbPath: cfg.SQLitePath(), users: o.users, posts: o.posts}
	store, err := app.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer func() { _ = store.Close() }() // every row is committed by the call that writes it

	authors, err := seedUsers(ctx, store, o.users)
	if err != nil {
		return nil, err
	}
	ids, err := seedPosts(ctx, store, authors, o.posts, s)
	if err != nil {
		return nil, err
	}

	// Half-way down the newest-first feed: ids are in creation order.
	s.deepPosition = o.posts / 2
	mid, err := store.PostByID(ctx, ids[len(ids)-1-s.deepPosition])
	if err != nil {
		return nil, fmt.Errorf("seed: read the middle post: %w", err)
	}
	s.deepCursor = blog.CursorAfter(mid).Encode()

	if s.idsFile, err = writeIDs(filepath.Join(tmp, "ids.txt"), ids); err != nil {
		return nil, err
	}
	if s.contentFile, err = writeContent(filepath.Join(tmp, "content.json")); err != nil {
		return nil, err
	}
	s.took = time.Since(began)
	logf("seeded %d users and %d posts in %v", o.users, o.posts, s.took.Round(100*time.Millisecond))
	return s, nil
}

func seedUsers(ctx context.Context, store blog.Store, n int) ([]string, error) {
	benchHash, err := auth.NewHasher(auth.DefaultParams, 0, 0).Hash(ctx, benchPassword)
	if err != nil {
		return nil, fmt.Errorf("seed: hash the bench password: %w", err)
	}
	ids := make([]string, 0, n)
	for i := range n {
		nu := blog.NewUser{Username: fmt.Sprintf("writer%03d", i), PasswordHash: fixedHash, Role: blog.RoleAuthor}
		if i == 0 {
			nu.Username, nu.PasswordHash = benchUsername, benchHash
		}
		u, err := store.CreateUser(ctx, nu)
		if err != nil {
			return nil, fmt.Errorf("seed: create user %s: %w", nu.Username, err)
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// renderedPost is a post ready for the store.
type renderedPost struct{ title, content, html string }

func seedPosts(ctx context.Context, store blog.Store, authors []string, n int, s *seeded) ([]string, error) {
	md := markdown.New()
	g := newTextGen(1)
	render := func() (renderedPost, error) {
		in := blog.PostInput{Title: g.title(), Content: g.body()}
		if err := in.Clean(); err != nil {
			return renderedPost{}, fmt.Errorf("seed: generated post is invalid: %w", err)
		}
		html, err := md.Render(in.Content)
		return renderedPost{in.Title, in.Content, html}, err
	}
	var pool []renderedPost
	s.uniqueBodies = n
	if n > maxUniqueBodies {
		s.uniqueBodies = bodyPool
		for range bodyPool {
			p, err := render()
			if err != nil {
				return nil, err
			}
			pool = append(pool, p)
		}
		logf("seeding %d posts from a pool of %d rendered bodies", n, bodyPool)
	}

	ids := make([]string, 0, n)
	began, lastLog := time.Now(), time.Now()
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var p renderedPost
		if pool != nil {
			p = pool[i%len(pool)]
			p.title = fmt.Sprintf("%s (%d)", p.title, i)
		} else {
			var err error
			if p, err = render(); err != nil {
				return nil, err
			}
		}
		created, err := store.CreatePost(ctx, blog.NewPost{AuthorID: authors[i%len(authors)], Title: p.title, Content: p.content, ContentHTML: p.html})
		if err != nil {
			return nil, fmt.Errorf("seed: post %d: %w", i, err)
		}
		ids = append(ids, created.ID)
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			rate := float64(i+1) / time.Since(began).Seconds()
			logf("seeded %d/%d posts (%.0f/s, about %v left)", i+1, n, rate, (time.Duration(float64(n-i-1)/rate) * time.Second).Round(time.Second))
		}
	}
	return ids, nil
}

// writeIDs writes every ID, or a random sample of idSample of them.
func writeIDs(path string, ids []string) (string, error) {
	pick := ids
	if len(ids) > idSample {
		r := rand.New(rand.NewPCG(2, 2))
		pick = make([]string, idSample)
		for i := range pick {
			pick[i] = ids[r.IntN(len(ids))]
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(pick, "\n")+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write post IDs: %w", err)
	}
	return path, nil
}

// writeContent writes the Markdown body POST /posts sends, already encoded
// as a JSON string so that Lua only concatenates.
func writeContent(path string) (string, error) {
	b, err := json.Marshal(newTextGen(99).body())
	if err != nil {
		return "", fmt.Errorf("encode post body: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("write post body: %w", err)
	}
	return path, nil
}

// textGen writes plausible blog posts: headings, paragraphs with inline
// emphasis, code and links, lists, a quote, a code block and sometimes a
// table, 1–2 KB of Markdown each. It is deterministic for a given seed.
type textGen struct{ r *rand.Rand }

func newTextGen(seed uint64) *textGen { return &textGen{rand.New(rand.NewPCG(seed, 0x5eed))} }

var vocabulary = strings.Fields(`the a server request handler middleware latency throughput cache
database index query cursor page token session cookie header proxy client browser
deploy release build test benchmark profile memory allocation goroutine channel
mutex lock queue worker timeout retry backoff error log metric trace span
security password hash argon2id secret key rotation audit policy sanitise escape
markdown render template layout feed post author comment draft publish archive
simple careful quick slow steady honest modest clear small large fast safe
we you it they this that every each some most few many none both
is was will can should must may might does did has had keeps makes
read write serve store load save check count measure compare explain show
and but so because while when after before until unless although since
with without under over between across through into onto from for of on in
today yesterday tomorrow often rarely always never sometimes usually`)

func (g *textGen) word() string { return vocabulary[g.r.IntN(len(vocabulary))] }

func (g *textGen) words(min, max int) []string {
	w := make([]string, min+g.r.IntN(max-min+1))
	for i := range w {
		w[i] = g.word()
	}
	return w
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *textGen) title() string { return capitalise(strings.Join(g.words(3, 8), " ")) }

func (g *textGen) sentence() string {
	w := g.words(7, 16)
	switch i := g.r.IntN(len(w)); g.r.IntN(6) {
	case 0:
		w[i] = "*" + w[i] + "*"
	case 1:
		w[i] = "**" + w[i] + "**"
	case 2:
		w[i] = "`" + w[i] + "()`"
	case 3:
		w[i] = "[" + w[i] + "](https://example.com/" + g.word() + "-" + g.word() + ")"
	}
	return capitalise(strings.Join(w, " ")) + "."
}

func (g *textGen) paragraph() string {
	s := make([]string, 2+g.r.IntN(3))
	for i := range s {
		s[i] = g.sentence()
	}
	return strings.Join(s, " ")
}

func (g *textGen) block() string {
	switch g.r.IntN(8) {
	case 0:
		return "## " + capitalise(strings.Join(g.words(2, 5), " "))
	case 1:
		items := make([]string, 3+g.r.IntN(3))
		for i := range items {
			items[i] = "- " + capitalise(strings.Join(g.words(3, 8), " "))
		}
		return strings.Join(items, "\n")
	case 2:
		return "```go\nfunc " + g.word() + "(ctx context.Context) error {\n\treturn " + g.word() + "(ctx, " + fmt.Sprint(g.r.IntN(100)) + ")\n}\n```"
	case 3:
		return "> " + g.sentence()
	case 4:
		return "| metric | before | after |\n| --- | ---: | ---: |\n| p50 | " + fmt.Sprint(g.r.IntN(90)+10) + " ms | " + fmt.Sprint(g.r.IntN(9)+1) + " ms |\n| req/s | " + fmt.Sprint(g.r.IntN(900)+100) + " | " + fmt.Sprint(g.r.IntN(9000)+1000) + " |"
	default:
		return g.paragraph()
	}
}

// body is 1,000 to about 2,000 bytes of Markdown.
func (g *textGen) body() string {
	target := 1000 + g.r.IntN(900)
	parts := []string{g.paragraph()}
	n := len(parts[0])
	for n < target {
		b := g.block()
		parts = append(parts, b)
		n += len(b) + 2
	}
	return strings.Join(parts, "\n\n")
}
