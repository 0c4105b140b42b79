package markdown

import (
	"bufio"
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// ImageClass is the class of the element that stands in for a Markdown
// image, for the site's CSS to style.
const ImageClass = "md-image"

// imageAsText renders a Markdown image as its alt text and a note that
// images are not shown, instead of an <img> (which the sanitiser would
// remove without a trace): a writer sees why the picture is missing, and a
// reader still gets its description. The image's URL is neither fetched
// nor shown, so an image cannot make readers' browsers call a third party.
type imageAsText struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (imageAsText) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindImage, renderImage)
}

// renderImage writes `<span class="md-image">[image: ALT — images are not
// shown]</span>`, or "[image — …]" when there is no alt text. It ignores
// write errors for the reason given above renderRawHTML.
func renderImage(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	var alt bytes.Buffer
	aw := bufio.NewWriter(&alt)
	writeAltText(aw, source, n)
	_ = aw.Flush() // writes to a bytes.Buffer, which cannot fail
	_, _ = w.WriteString(`<span class="` + ImageClass + `">[image`)
	if a := bytes.TrimSpace(alt.Bytes()); len(a) > 0 {
		_, _ = w.WriteString(": ")
		_, _ = w.Write(a)
	}
	_, _ = w.WriteString(" — images are not shown]</span>")
	return ast.WalkSkipChildren, nil
}

// writeAltText writes the plain text of n's children, HTML-escaped, as
// goldmark writes an <img>'s alt attribute: emphasis and links inside the
// brackets give only their text, entities and backslash escapes are
// resolved, line breaks become spaces.
func writeAltText(w util.BufWriter, source []byte, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			if c.IsRaw() {
				html.DefaultWriter.RawWrite(w, c.Segment.Value(source))
			} else {
				html.DefaultWriter.Write(w, c.Segment.Value(source))
			}
			if c.SoftLineBreak() || c.HardLineBreak() {
				_ = w.WriteByte(' ')
			}
		case *ast.String:
			if c.IsRaw() || c.IsCode() {
				html.DefaultWriter.RawWrite(w, c.Value)
			} else {
				html.DefaultWriter.Write(w, c.Value)
			}
		default:
			writeAltText(w, source, c)
		}
	}
}
