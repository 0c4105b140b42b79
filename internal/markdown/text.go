package markdown

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Excerpt returns the first n characters of the text of rendered HTML (as
// made by Render), on one line, with "…" when it was cut: what a reader
// sees of the post, without Markdown punctuation or tags.
//
// It reads at most the first ExcerptScanBytes of the HTML, so a page of
// excerpts costs the same however large (or however old, from before the
// rendering limits) its posts are: HTML with no text, such as a table of
// empty cells, would otherwise be read to its end for nothing.
func Excerpt(rendered string, n int) string {
	if len(rendered) > ExcerptScanBytes {
		i := ExcerptScanBytes
		for i > 0 && !utf8.RuneStart(rendered[i]) {
			i-- // cut between characters, not inside one
		}
		rendered = rendered[:i]
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(rendered))
	count := 0
	space := false
	for count < n+1 {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.TextToken {
			// Block boundaries separate words; inline tags (<strong>, <a>)
			// do not.
			if name, _ := z.TagName(); blockTags[string(name)] {
				space = true
			}
			continue
		}
		for _, r := range string(z.Text()) { // Text unescapes entities
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
				space = true
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
				count++
			}
			space = false
			b.WriteRune(r)
			count++
		}
	}
	s := b.String()
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return strings.TrimSpace(s[:pos]) + "…"
		}
		i++
	}
	return s
}

// ExcerptScanBytes is how much of a post's HTML Excerpt reads.
const ExcerptScanBytes = 64 << 10

var blockTags = map[string]bool{
	"p": true, "br": true, "hr": true, "li": true, "ul": true, "ol": true, "pre": true, "blockquote": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"table": true, "tr": true, "td": true, "th": true,
}
