// Package markdown renders post content to HTML that is safe to put in a
// page: goldmark turns CommonMark (plus GitHub tables and strikethrough) into
// HTML, and bluemonday's allow-list removes anything that could run script
// or load from elsewhere, whatever the author wrote.
package markdown

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Renderer converts Markdown to sanitised HTML. It is safe for concurrent
// use.
type Renderer struct {
	md goldmark.Markdown
	// blocks parses block structure only (no inline parsers), so the
	// inline work of each paragraph can be measured before it is done.
	blocks parser.Parser
	policy *bluemonday.Policy
	// maxHTML bounds the HTML of content of n bytes; always the package's
	// maxHTML but in a test, which lowers it to reach the check, since no
	// input found gets past the other bounds and still exceeds it.
	maxHTML func(n int) int
}

// New returns a Renderer. Raw HTML in the Markdown is shown as escaped
// text (never passed through) and the output is sanitised again, so a flaw
// in one layer is caught by the other.
func New() *Renderer {
	return &Renderer{
		md: goldmark.New(
			goldmark.WithParser(parser.NewParser(
				parser.WithBlockParsers(parser.DefaultBlockParsers()...),
				parser.WithInlineParsers(inlineParsers()...),
				parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
			)),
			goldmark.WithExtensions(extension.Table, extension.Strikethrough),
			// Ahead of goldmark's own HTML renderer (priority 1000).
			goldmark.WithRendererOptions(renderer.WithNodeRenderers(
				util.Prioritized(rawHTMLAsText{}, 100),
				util.Prioritized(imageAsText{}, 100),
			)),
		),
		blocks: parser.NewParser(
			parser.WithBlockParsers(parser.DefaultBlockParsers()...),
			parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
			parser.WithParagraphTransformers(util.Prioritized(extension.NewTableParagraphTransformer(), 200)),
		),
		policy:  policy(),
		maxHTML: maxHTML,
	}
}

// inlineParsers are goldmark's defaults but the one for raw HTML: it is
// shown as text anyway, and on "<a" followed by a long run of words it
// took time that grew with the square of the paragraph.
func inlineParsers() []util.PrioritizedValue {
	return []util.PrioritizedValue{
		util.Prioritized(parser.NewCodeSpanParser(), 100),
		util.Prioritized(parser.NewLinkParser(), 200),
		util.Prioritized(parser.NewAutoLinkParser(), 300),
		util.Prioritized(parser.NewEmphasisParser(), 500),
	}
}

// policy allows the text elements Markdown produces and links, nothing
// else: no attributes that style or script, no images (a remote image lets
// any author make every reader's browser call a third party, and the site's
// CSP refuses them anyway; imageAsText writes a note in their place, the
// one span allowed), no forms, frames or embedded objects.
func policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
		"strong", "em", "del", "code", "pre", "blockquote",
		"ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("align").Matching(bluemonday.CellAlign).OnElements("th", "td")
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).OnElements("code")
	// A span only with exactly this class: raw HTML is shown as text, so
	// only imageAsText writes one, and no other class can borrow the
	// site's styles.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^` + ImageClass + `$`)).OnElements("span")
	p.AllowAttrs("href").OnElements("a")
	p.AllowStandardURLs() // http, https and mailto only; relative URLs allowed
	// Links written by strangers must not pass on ranking or the opener.
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Render returns the sanitised HTML of src. Content over one of the bounds
// in limits.go is refused with a *blog.ValidationError on "content" that
// says which, before the expensive part of the work is done: a cheap scan
// of the source, then checks on the block tree, then on the full tree,
// then on the size of the HTML.
func (r *Renderer) Render(src string) (string, error) {
	b := []byte(src)
	if msg := prescan(b); msg != "" {
		return "", blog.InvalidContent(msg)
	}
	if msg := checkBlocks(r.blocks.Parse(text.NewReader(b)), b); msg != "" {
		return "", blog.InvalidContent(msg)
	}
	doc := r.md.Parser().Parse(text.NewReader(b))
	if msg := checkInlines(doc, b); msg != "" {
		return "", blog.InvalidContent(msg)
	}
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, b, doc); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	limit := r.maxHTML(len(b))
	if buf.Len() > 2*limit {
		// Sanitising removes far more than the rel attributes it adds to
		// links; spare it HTML that cannot come under the limit.
		return "", blog.InvalidContent(msgTooLarge)
	}
	out := r.policy.SanitizeBytes(buf.Bytes())
	if len(out) > limit {
		return "", blog.InvalidContent(msgTooLarge)
	}
	return string(out), nil
}
