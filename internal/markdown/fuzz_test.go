package markdown

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/palisade-blog/palisade/internal/blog"
)

// FuzzRender: whatever Markdown an author writes, the HTML has no event
// handler attribute, no script or other active element, and no link
// outside http, https, mailto and relative URLs; and it is refused as too
// costly to render or is within the bound on HTML size.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"**bold** [x](https://example.com)",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](java\tscript:alert(1))",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<svg onload=alert(1)>",
		"![x](javascript:alert(1))",
		"![<script>alert(1)</script>](https://tracker.example/p.gif \"<b>\")",
		"<iframe src=//evil.example>",
		"[x](data:text/html;base64,PHNjcmlwdD4=)",
		"```\n<script>\n```",
		"<style>body{}</style>",
		"[x]( vbscript:msgbox(1))",
	} {
		f.Add(s)
	}
	r := New()
	f.Fuzz(func(t *testing.T, src string) {
		out, err := r.Render(src)
		var verr *blog.ValidationError
		if errors.As(err, &verr) {
			return // refused as too costly to render: nothing to check
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > maxHTML(len(src)) {
			t.Fatalf("Render(%d bytes) = %d bytes of HTML, over the bound", len(src), len(out))
		}
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "iframe", "object", "embed", "svg", "math", "img", "form", "input", "base", "meta", "link":
				t.Fatalf("Render(%q) has a <%s> element: %s", src, tok.Data, out)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "style" || a.Key == "srcdoc" {
					t.Fatalf("Render(%q) has attribute %s: %s", src, a.Key, out)
				}
				if a.Key == "href" || a.Key == "src" {
					v := strings.ToLower(strings.TrimSpace(a.Val))
					if i := strings.Index(v, ":"); i >= 0 && !strings.ContainsAny(v[:i], "/?#") {
						scheme := v[:i]
						if scheme != "http" && scheme != "https" && scheme != "mailto" {
							t.Fatalf("Render(%q) links to scheme %q: %s", src, scheme, out)
						}
					}
				}
			}
		}
	})
}
