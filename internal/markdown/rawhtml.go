package markdown

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// rawHTMLAsText renders HTML written inside Markdown as visible text
// instead of dropping it: an author who types <img src=x onerror=…> sees
// exactly that on the page (escaped, so it cannot run), rather than a post
// that silently lost part of its content.
type rawHTMLAsText struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (rawHTMLAsText) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

// The renderers below ignore write errors: w is a bufio.Writer, whose
// first error sticks and is returned by the Flush that ends rendering.
func renderRawHTML(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	segs := n.(*ast.RawHTML).Segments
	for i := 0; i < segs.Len(); i++ {
		seg := segs.At(i)
		_, _ = w.Write(util.EscapeHTML(seg.Value(source)))
	}
	return ast.WalkSkipChildren, nil
}

func renderHTMLBlock(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	block := n.(*ast.HTMLBlock)
	_, _ = w.WriteString("<p>")
	lines := block.Lines()
	for i := 0; i < lines.Len(); i++ {
		if i > 0 {
			_, _ = w.WriteString("<br>\n")
		}
		line := lines.At(i)
		_, _ = w.Write(util.EscapeHTML(util.TrimRightSpace(line.Value(source))))
	}
	if block.HasClosure() {
		_, _ = w.WriteString("<br>\n")
		_, _ = w.Write(util.EscapeHTML(util.TrimRightSpace(block.ClosureLine.Value(source))))
	}
	_, _ = w.WriteString("</p>\n")
	return ast.WalkContinue, nil
}
