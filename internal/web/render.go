package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/palisade-blog/palisade/internal/markdown"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// asset is one static file, served under a name that contains a hash of
// its content so it can be cached for a year: a new version is a new URL.
type asset struct {
	body        []byte
	contentType string
}

// renderer holds the parsed pages and the static files. Everything is
// parsed at start-up, so a broken template stops the boot, not a request.
type renderer struct {
	pages  map[string]*template.Template
	assets map[string]asset  // hashed name → file
	paths  map[string]string // plain name → /static/hashed name
}

func newRenderer() (*renderer, error) {
	r := &renderer{pages: map[string]*template.Template{}, assets: map[string]asset{}, paths: map[string]string{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := path.Base(p)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		r.assets[hashed] = asset{body: body, contentType: mime.TypeByExtension(ext)}
		r.paths[name] = "/static/" + hashed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			p, ok := r.paths[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return p, nil
		},
		// safeHTML marks a post's contentHtml as safe. It is the only
		// way HTML gets into a page unescaped, and contentHtml has been
		// through the markdown package's allow-list sanitiser.
		"safeHTML": func(s string) template.HTML { return template.HTML(s) },
		"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
		"excerpt":  func(contentHTML string) string { return markdown.Excerpt(contentHTML, 200) },
	}
	base, err := template.New("base.html").Funcs(funcs).ParseFS(templateFiles, "templates/base.html")
	if err != nil {
		return nil, fmt.Errorf("parse base template: %w", err)
	}
	for _, name := range []string{"home", "post", "write", "delete", "login", "register", "error", "admin", "admin-invite", "setup", "author",
		"login-2fa", "account", "reauth", "totp-setup", "totp-disable", "recovery-new", "recovery-codes", "passkey-remove", "password"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// render writes page with v. The page is executed into a buffer first, so
// a template error becomes a clean 500 instead of half a page.
func (rd *renderer) render(w http.ResponseWriter, status int, page string, v *view) error {
	var buf bytes.Buffer
	if err := rd.pages[page].ExecuteTemplate(&buf, "base", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	csp := PageCSP
	if v.Passkey {
		csp = PasskeyPageCSP
	}
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	return nil
}

// errWrite marks a failure to send a rendered page: the client went away
// (a broken pipe, a reset), which is not the server's fault.
var errWrite = errors.New("send page")

// PageCSP is the policy of every page. default-src 'none' means no script
// of any kind runs (the site needs none: everything works with scripts
// off), nothing loads from another origin, and a stored-XSS payload that
// slipped past the sanitiser could not execute.
const PageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// PasskeyPageCSP is the policy of the pages that offer a passkey action
// (see passkeyPage): PageCSP, plus the site's own passkey.js and its
// requests to the site. Trusted Types with no policy at all means no
// string can reach a DOM sink that runs or parses code (innerHTML, eval,
// a script's src), even from that script.
const PasskeyPageCSP = PageCSP + "; script-src 'self'; connect-src 'self'; require-trusted-types-for 'script'; trusted-types 'none'"

// serveAsset serves a hashed static file with a year-long immutable cache.
func (rd *renderer) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := rd.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(a.body) // fails only if the client went away
}
