package markdown

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/palisade-blog/palisade/internal/blog"
)

// tableBomb is a header of cols columns followed by rows lines of "|":
// goldmark pads every row to the header's width.
func tableBomb(cols, rows int) string {
	return strings.Repeat("|a", cols) + "|\n" + strings.Repeat("|-", cols) + "|\n" + strings.Repeat("|\n", rows)
}

// nestedList is a list nested depth levels deep by indentation.
func nestedList(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat("  ", i) + "- item\n")
	}
	return b.String()
}

// linkTable is an honest table: rows rows of cols cells, each a link.
func linkTable(cols, rows int) string {
	var b strings.Builder
	b.WriteString(strings.Repeat("| head ", cols) + "|\n" + strings.Repeat("|------", cols) + "|\n")
	for r := range rows {
		for c := range cols {
			fmt.Fprintf(&b, "| [cell %d](https://example.com/%d/%d) ", c, r, c)
		}
		b.WriteString("|\n")
	}
	return b.String()
}

// formattedProse is paragraphs of prose, each with a link, bold, italic
// and code: dense, honest markup.
func formattedProse(paragraphs int) string {
	p := "Some **bold** words, an *aside*, a [link](https://example.com/a/b) and `code()`; " +
		"then [another link](https://example.com/c), _more emphasis_ and ~~a strike~~ in a sentence " +
		"that goes on for a while as sentences in a blog post do.\n\n"
	return strings.Repeat(p, paragraphs)
}

// TestRenderLimits: each red-team input is refused with a validation error
// on "content" saying which bound it hit, while an honest post of the same
// kind and size renders.
func TestRenderLimits(t *testing.T) {
	r := New()
	refused := []struct {
		name, src, msg string
	}{
		// 2.4 KB that rendered to 3.1 MB of HTML.
		{"TableBomb", tableBomb(100, 1000), "table cells"},
		// Render is not only called on cleaned text: "\r" and "\r\n" end
		// lines as "\n" does.
		{"TableBombCR", strings.ReplaceAll(tableBomb(100, 1000), "\n", "\r"), "table cells"},
		{"TableBombCRLF", strings.ReplaceAll(tableBomb(100, 1000), "\n", "\r\n"), "table cells"},
		{"TableBombInQuote", "> " + strings.ReplaceAll(tableBomb(100, 200), "\n", "\n> "), "table cells"},
		{"TableBombNoPipes", strings.Repeat("|a", 200) + "|\n" + strings.Repeat("|-", 200) + "|\n" + strings.Repeat("x\n", 100), "table cells"},
		{"DashNesting", strings.Repeat("- ", 50_000) + "a", "nested too deeply"},
		{"DashNestingNoText", strings.Repeat("- ", 20_000), ""},
		{"OrderedNesting", strings.Repeat("1. ", 20_000) + "a", "nested too deeply"},
		{"QuoteNesting", strings.Repeat(">", 50_000), "nested too deeply"},
		{"QuoteNestingSpaced", strings.Repeat("> ", MaxDepth+1) + "a", "nested too deeply"},
		{"IndentNesting", nestedList(MaxDepth + 1), "nested too deeply"},
		{"MixedNesting", strings.Repeat("> - ", MaxDepth/2+1) + "a", "nested too deeply"},
		{"BracketRun", strings.Repeat("[", 50_000), "inline markup"},
		{"EmptyLinkRun", strings.Repeat("[](", 16_000), "inline markup"},
		{"ImageRun", strings.Repeat("![](", 8_000), "inline markup"},
		{"LinkOpenersOverLines", strings.Repeat("[a](\n", 8_000), "inline markup"},
		{"EmphasisRun", strings.Repeat("a* ", 20_000), "inline markup"},
		{"UnderscoreRun", strings.Repeat("_a", 25_000), "inline markup"},
		{"StrikeRun", strings.Repeat("~a", 25_000), "inline markup"},
		// Each level opens and closes a <blockquote>: 19 bytes, 17 blocks.
		{"QuoteStacks", strings.Repeat(strings.Repeat(">", MaxDepth)+"a\n\n", 2000), "too many blocks"},
		{"MarkerStacks", strings.Repeat(strings.Repeat("- ", MaxDepth)+"a\n", 2000), "too many blocks"},
		// The bound on HTML size ("too much HTML") is a backstop: no input
		// found gets past the bounds above and still reaches it. FuzzRender
		// checks that whatever is accepted is within it.
		{"ReferenceRepeated", "[a]: https://example.com/" + strings.Repeat("x", 2000) + "\n\n" + strings.Repeat("[a]\n\n", 5000), "long links"},
	}
	for _, tt := range refused {
		t.Run("Refuses"+tt.name, func(t *testing.T) {
			out, err := r.Render(tt.src)
			if tt.msg == "" {
				// "- - - …" with nothing after is a thematic break: cheap,
				// harmless, allowed.
				if err != nil {
					t.Fatalf("Render = %v, want it rendered", err)
				}
				return
			}
			var verr *blog.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Render (%d bytes) = %d bytes of HTML, err %v; want a validation error", len(tt.src), len(out), err)
			}
			f := verr.Fields[0]
			if len(verr.Fields) != 1 || f.Path != "content" || f.Location != "body" || f.Type != "field" || !strings.Contains(f.Msg, tt.msg) {
				t.Fatalf("error = %+v, want one field error on content saying %q", verr.Fields, tt.msg)
			}
		})
	}

	honest := []struct{ name, src string }{
		{"Table", linkTable(10, 500)},
		{"WideTable", linkTable(50, 10)},
		{"NestedList", nestedList(MaxDepth)},
		{"NestedListFourSpaces", strings.ReplaceAll(nestedList(MaxDepth), "  ", "    ")},
		{"QuotedList", strings.Repeat("> ", MaxDepth/2) + strings.Repeat("- ", MaxDepth/2) + "deep"},
		{"FormattedProse", formattedProse(300)},
		{"LongParagraph", strings.Repeat("A [link](https://example.com) in **bold** text. ", 60)},
		{"CodeFull Of Brackets", "```go\n" + strings.Repeat("x := []map[string]*T{{a: <-ch}} // [[ ]] <<< ~~\n", 2000) + "```\n"},
		{"ShortItems", strings.Repeat("- a\n", 10_000)},
		{"ShortLines", strings.Repeat("a\n", 20_000)},
		{"ReferenceUsedOften", "[docs]: https://example.com/docs\n\n" + strings.Repeat(strings.Repeat("See [docs] and [docs]. ", 20)+"\n\n", 50)},
		// Raw HTML is not parsed (it is shown as text), so this is cheap.
		{"TagOpenersThenText", strings.Repeat("<a ", 200) + strings.Repeat("word ", 19_000)},
		{"Escapes", strings.Repeat("a < b && \"c\" > 'd' ", 5000)},
		{"Thematic breaks", strings.Repeat("- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n\n", 100)},
		{"MaxSize", strings.Repeat("Plain words in a long post. ", blog.ContentMax/28)},
	}
	for _, tt := range honest {
		t.Run("Renders"+strings.ReplaceAll(tt.name, " ", ""), func(t *testing.T) {
			out, err := r.Render(tt.src)
			if err != nil {
				t.Fatalf("Render (%d bytes) = %v, want it rendered", len(tt.src), err)
			}
			if len(out) > maxHTML(len(tt.src)) {
				t.Fatalf("Render (%d bytes) = %d bytes, over the bound", len(tt.src), len(out))
			}
		})
	}
}

// TestPrescanLineEndings: the scan before parsing ends lines where goldmark
// does, so a table bomb with "\r" line endings is refused before goldmark
// builds its padded rows, not only after.
func TestPrescanLineEndings(t *testing.T) {
	for _, eol := range []string{"\n", "\r", "\r\n"} {
		src := strings.ReplaceAll(tableBomb(100, 1000), "\n", eol)
		if got := prescan([]byte(src)); got != msgTooManyCells {
			t.Errorf("prescan(table bomb, lines ending %q) = %q, want %q", eol, got, msgTooManyCells)
		}
		honest := strings.ReplaceAll(linkTable(10, 100), "\n", eol)
		if got := prescan([]byte(honest)); got != "" {
			t.Errorf("prescan(honest table, lines ending %q) = %q, want no objection", eol, got)
		}
	}
}

// TestRenderConcurrent: one Renderer serves every request, so its two
// parsers and checks must be safe to use at once (run with -race).
func TestRenderConcurrent(t *testing.T) {
	r := New()
	inputs := []string{formattedProse(20), linkTable(5, 20), tableBomb(100, 1000), strings.Repeat(">", 1000)}
	done := make(chan error)
	for _, src := range inputs {
		go func() {
			var err error
			for range 20 {
				if _, e := r.Render(src); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	refused := 0
	for range inputs {
		if err := <-done; err != nil {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d of the inputs were refused, want the 2 bombs", refused)
	}
}

// TestHTMLSizeCap reaches the last bound, on the size of the sanitised
// HTML, with a cap lowered below what honest content renders to: the
// bounds before it keep every known input under the real cap, so only a
// lower one shows that the check is made and refuses, both before
// sanitising (far over) and after (just over).
func TestHTMLSizeCap(t *testing.T) {
	src := "A paragraph of *ordinary* prose with a [link](https://example.com/).\n\n- one\n- two\n"
	r := New()
	out, err := r.Render(src)
	if err != nil {
		t.Fatalf("Render = %v", err)
	}
	for _, tt := range []struct {
		name  string
		limit int
		ok    bool
	}{
		{"AtTheSize", len(out), true},
		{"JustUnder", len(out) - 1, false},  // passes the pre-sanitise check, refused after
		{"FarUnder", len(out)/2 - 1, false}, // refused before sanitising
		{"Tiny", 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			r.maxHTML = func(int) int { return tt.limit }
			got, err := r.Render(src)
			if tt.ok {
				if err != nil || got != out {
					t.Fatalf("Render = %q, %v; want the same HTML as without a cap", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), msgTooLarge) {
				t.Fatalf("Render = %d bytes, %v; want refused as too much HTML", len(got), err)
			}
			if _, ok := errors.AsType[*blog.ValidationError](err); !ok {
				t.Fatalf("error %T, want a field error on content", err)
			}
		})
	}
}
