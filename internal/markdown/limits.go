package markdown

import (
	"bytes"
	"fmt"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// Bounds on what one post may cost to render. goldmark has no limits of
// its own: a table pads every row to the header's width, references repeat
// their URL at every use, and deep nesting or unmatched brackets cost time
// that grows faster than the input. Content within these bounds renders in
// time close to linear in its size (BenchmarkRenderWorst) and to at most
// MaxHTMLBytes; anything else is refused before it is rendered, with a
// message that says which bound it hit.
const (
	// MaxDepth is how deeply lists and block quotes may nest.
	MaxDepth = 16
	// MaxBlocksPerByte and MaxBlocksBase bound the block nodes (list
	// items, quotes, paragraphs, table cells, …): at most one per
	// MaxBlocksPerByte bytes of content, plus MaxBlocksBase. Each costs
	// far more to parse, render and sanitise than a byte of prose, and
	// stacking them ("- - - … a" on every line) was the slowest input
	// left within the other bounds. An honest list of one-letter items
	// ("- a") is at the limit.
	MaxBlocksPerByte = 2
	MaxBlocksBase    = 1000
	// MaxTableCells is the number of cells all tables of a post may have,
	// counting the empty cells goldmark adds to pad short rows.
	MaxTableCells = 10_000
	// InlineBudgetPerByte and InlineBudgetBase bound inline markup in long
	// paragraphs: the sum over paragraphs of (delimiters × bytes) may be
	// at most InlineBudgetPerByte × content bytes + InlineBudgetBase. A
	// delimiter is a '[' or a run of '*', '_', '~' or '`'.
	// goldmark's work on an unmatched delimiter can reach the end of its
	// paragraph, so this product is what bounds the time.
	InlineBudgetPerByte = 32
	InlineBudgetBase    = 1_000_000
	// MaxLinkBytesPerByte and MaxLinkBytesBase bound the bytes of link
	// URLs and titles in the rendered post. A reference definition is
	// written once and repeated at every use, so a long URL used many
	// times would otherwise multiply the output.
	MaxLinkBytesPerByte = 2
	MaxLinkBytesBase    = 16 << 10
	// MaxHTMLRatio, MinHTMLBytes and MaxHTMLBytes bound the rendered HTML:
	// at most MaxHTMLRatio times the content's bytes (but MinHTMLBytes is
	// always allowed), and never more than MaxHTMLBytes. 16, not less: the
	// sanitiser adds some 50 bytes of rel and target to every link, so
	// text dense with short links honestly grows about tenfold.
	MaxHTMLRatio = 16
	MinHTMLBytes = 64 << 10
	MaxHTMLBytes = 1 << 20
)

// The messages a client sees, as the "msg" of a field error on "content".
var (
	msgTooDeep       = fmt.Sprintf("Content is nested too deeply (at most %d levels of lists and quotes)", MaxDepth)
	msgTooManyCells  = fmt.Sprintf("Content has too many table cells (at most %d)", MaxTableCells)
	msgTooManyBlocks = "Content has too many blocks (list items, quotes, paragraphs, table cells) for its length"
	msgInline        = "Content has too much inline markup (links, emphasis, code) in long paragraphs: split them into shorter paragraphs"
	msgLinks         = "Content repeats long links too often"
	msgTooLarge      = "Content renders to too much HTML"
)

// maxHTML is the largest rendered HTML allowed for content of n bytes.
func maxHTML(n int) int {
	return min(MaxHTMLBytes, max(MinHTMLBytes, MaxHTMLRatio*n))
}

// prescan is the cheap, linear look at the source before goldmark parses
// it, for what would be expensive during parsing itself: container markers
// stacked on one line ("> > > …", "- - - … a") and tables whose rows
// goldmark pads to the header's width. (Nesting by indentation alone needs
// input that grows with the square of the depth, so the exact check on the
// block tree is soon enough for it; indentation counts here only at a
// level per four columns, the widest usual indent.) It over-estimates (a line that
// merely looks like a table row counts as one) so that nothing it lets
// through is expensive to parse; the checks on the parsed tree are exact.
// It returns a client-safe message if src is over a bound, or "".
func prescan(src []byte) string {
	cells, tableCols := 0, 0
	prevText := false // the previous line could be a table's header row
	for len(src) > 0 {
		// Lines end as goldmark ends them: at "\n", "\r" or "\r\n".
		// (Content from the API and the website has no "\r" left; Render
		// does not rely on that.)
		line := src
		if i := bytes.IndexAny(src, "\r\n"); i >= 0 {
			crlf := src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n'
			line, src = src[:i], src[i+1:]
			if crlf {
				src = src[1:]
			}
		} else {
			src = nil
		}
		indent, markers, text := containerPrefix(line)
		text = bytes.TrimSpace(text)
		if markers > 0 && markers+indent/4 > MaxDepth && !isThematicBreak(line) {
			return msgTooDeep
		}
		switch {
		case len(text) == 0:
			tableCols = 0 // a blank line ends a table
		case tableCols > 0:
			// Every line up to the next blank one may be a row, padded to
			// the header's width.
			cells += tableCols
		case prevText:
			if n := delimiterRowCells(text); n > 0 {
				tableCols = n
				cells += 2 * n // the header and this row
			}
		}
		if cells > MaxTableCells {
			return msgTooManyCells
		}
		prevText = len(text) > 0
	}
	return ""
}

// containerPrefix reads the block-quote and list markers at the start of
// line: the columns of indentation before the first, how many there are,
// and what follows them.
func containerPrefix(line []byte) (indent, markers int, rest []byte) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		if line[i] == '\t' {
			indent += 4
		} else {
			indent++
		}
		i++
	}
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return indent, markers, nil
		}
		c := line[i]
		switch {
		case c == '>':
			markers++
			i++
		case (c == '-' || c == '+' || c == '*') && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t'):
			markers++
			i++
		default:
			j := i
			for j < len(line) && j-i < 10 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j == i || j-i > 9 || j >= len(line) || (line[j] != '.' && line[j] != ')') ||
				(j+1 < len(line) && line[j+1] != ' ' && line[j+1] != '\t') {
				return indent, markers, line[i:]
			}
			markers++
			i = j + 1
		}
	}
}

// isThematicBreak reports a line of three or more '-', '*' or '_' and
// spaces ("- - -"), which looks like list markers but opens nothing.
func isThematicBreak(line []byte) bool {
	var c byte
	n := 0
	for _, b := range line {
		switch b {
		case ' ', '\t':
		case '-', '*', '_':
			if c != 0 && b != c {
				return false
			}
			c = b
			n++
		default:
			return false
		}
	}
	return n >= 3
}

// delimiterRowCells returns the number of columns if text could be a
// table's delimiter row ("|---|:-:|", ":--"), else 0. It accepts all that
// goldmark accepts, and a few more.
func delimiterRowCells(text []byte) int {
	dash, other := false, false
	for _, c := range text {
		switch c {
		case '-':
			dash = true
		case '|', ':', ' ', '\t':
			other = true
		default:
			return 0
		}
	}
	if !dash || !other {
		return 0 // "---" under a line is a heading
	}
	text = bytes.TrimPrefix(text, []byte("|"))
	text = bytes.TrimSuffix(text, []byte("|"))
	return bytes.Count(text, []byte("|")) + 1
}

// delimiters counts what can open inline markup goldmark must match: each
// '[', and each run of '*', '_', '~' or '`'. ('<' opens only autolinks,
// which end at the first space: raw HTML is not parsed.) prev is the byte
// before text.
func delimiters(text []byte, prev byte) (int, byte) {
	n := 0
	for _, c := range text {
		switch c {
		case '[':
			n++
		case '*', '_', '~', '`':
			if c != prev {
				n++
			}
		}
		prev = c
	}
	return n, prev
}

// checkBlocks checks the tree of block-level nodes (parsed without inline
// markup): their number, nesting depth, table cells, and the inline work
// each paragraph, heading and table cell will cost.
func checkBlocks(doc ast.Node, src []byte) string {
	cells, inlineCost, blocks := 0, 0, 0
	maxBlocks := len(src)/MaxBlocksPerByte + MaxBlocksBase
	var walk func(n ast.Node, depth int) string
	walk = func(n ast.Node, depth int) string {
		if n.Type() == ast.TypeBlock {
			if blocks++; blocks > maxBlocks {
				return msgTooManyBlocks
			}
		}
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindList:
			depth++
			if depth > MaxDepth {
				return msgTooDeep
			}
		case east.KindTableCell:
			cells++
			if cells > MaxTableCells {
				return msgTooManyCells
			}
		}
		if n.Type() == ast.TypeBlock && !isCode(n) {
			lines := n.Lines()
			k, size := 0, 0
			var prev byte
			for i := range lines.Len() {
				seg := lines.At(i)
				var d int
				d, prev = delimiters(seg.Value(src), prev)
				k += d
				size += seg.Len()
			}
			inlineCost += k * size
		}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if msg := walk(c, depth); msg != "" {
				return msg
			}
		}
		return ""
	}
	if msg := walk(doc, 0); msg != "" {
		return msg
	}
	if inlineCost > InlineBudgetPerByte*len(src)+InlineBudgetBase {
		return msgInline
	}
	return ""
}

// isCode reports blocks whose lines goldmark does not parse for inline
// markup.
func isCode(n ast.Node) bool {
	switch n.Kind() {
	case ast.KindCodeBlock, ast.KindFencedCodeBlock, ast.KindHTMLBlock:
		return true
	}
	return false
}

// checkInlines checks the full tree before it is rendered: the bytes that
// link URLs and titles will add, and (exactly, now that rows are known) the
// table cells.
func checkInlines(doc ast.Node, src []byte) string {
	linkBytes, cells := 0, 0
	limit := MaxLinkBytesPerByte*len(src) + MaxLinkBytesBase
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			linkBytes += len(n.Destination) + len(n.Title)
		case *ast.Image:
			linkBytes += len(n.Destination) + len(n.Title)
		case *ast.AutoLink:
			linkBytes += len(n.URL(src))
		case *east.TableCell:
			cells++
		}
		if linkBytes > limit || cells > MaxTableCells {
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	switch {
	case err != nil:
		return msgTooLarge
	case cells > MaxTableCells:
		return msgTooManyCells
	case linkBytes > limit:
		return msgLinks
	}
	return ""
}
