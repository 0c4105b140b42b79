package markdown

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRender(t *testing.T) {
	r := New()
	tests := []struct {
		name, src   string
		want        []string // substrings that must appear
		mustNotHave []string
	}{
		{name: "Emphasis", src: "Hello **world**", want: []string{"<strong>world</strong>"}},
		{name: "Link", src: "[docs](https://example.com/x)", want: []string{`href="https://example.com/x"`, `rel="nofollow noreferrer noopener"`}},
		{name: "ScriptTag", src: "<script>alert(1)</script>", want: []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, mustNotHave: []string{"<script"}},
		{name: "ImgOnerrorShownAsText", src: `<img src=x onerror=alert(2)>`, want: []string{"&lt;img src=x onerror=alert(2)&gt;"}, mustNotHave: []string{"<img"}},
		{name: "InlineHTMLShownAsText", src: `a <b onclick="x()">bold</b> word`, want: []string{"a &lt;b onclick=&#34;x()&#34;&gt;bold&lt;/b&gt; word"}, mustNotHave: []string{"<b "}},
		{name: "JavascriptLink", src: "[x](javascript:alert(1))", mustNotHave: []string{"javascript:"}},
		{name: "DataLink", src: "[x](data:text/html;base64,PHNjcmlwdD4=)", mustNotHave: []string{"data:text/html"}},
		{name: "MarkdownImage", src: "![pixel](https://tracker.example/p.gif)", mustNotHave: []string{"<img", "tracker.example"}},
		{name: "ImageShownAsNote", src: "See ![a *red* door](https://tracker.example/door.jpg \"title\") here",
			want:        []string{`See <span class="md-image">[image: a red door — images are not shown]</span> here`},
			mustNotHave: []string{"<img", "src=", "tracker.example", "title"}},
		{name: "ImageWithoutAlt", src: "![](https://tracker.example/p.gif)", want: []string{`<span class="md-image">[image — images are not shown]</span>`}},
		{name: "ImageHostileAlt", src: `![<script>alert(1)</script> "q" &amp; \<b\>](x.png)`,
			want:        []string{`[image: &lt;script&gt;alert(1)&lt;/script&gt; &#34;q&#34; &amp; &lt;b&gt; — images are not shown]`},
			mustNotHave: []string{"<script", "<b>", "src="}},
		{name: "ImageHostileURL", src: `![x](javascript:alert(1) "<script>")`, mustNotHave: []string{"javascript", "<script"}},
		{name: "ImageEntityAlt", src: "![&lt;img src=x onerror=alert(1)&gt;](x)", want: []string{"[image: &lt;img src=x onerror=alert(1)&gt; — "}, mustNotHave: []string{"<img"}},
		{name: "ImageInLink", src: "[![logo](https://x.example/l.png)](https://example.com/)", want: []string{`href="https://example.com/"`, `[image: logo — images are not shown]</span></a>`}, mustNotHave: []string{"x.example"}},
		{name: "ImageReference", src: "![alt][ref]\n\n[ref]: https://tracker.example/p.gif", want: []string{"[image: alt — "}, mustNotHave: []string{"tracker.example"}},
		{name: "OtherSpanClassDropped", src: "<span class=\"md-image evil\">x</span>", mustNotHave: []string{"<span"}},
		{name: "InlineHandlerInHTMLBlock", src: "<div onclick=\"alert(1)\">x</div>", mustNotHave: []string{"<div"}},
		{name: "StyleAttribute", src: "<p style=\"background:url(https://x)\">x</p>", mustNotHave: []string{"<p style"}},
		{name: "EscapedText", src: "a < b & c", want: []string{"a &lt; b &amp; c"}},
		{name: "CodeBlock", src: "```\n<script>x</script>\n```", want: []string{"&lt;script&gt;"}, mustNotHave: []string{"<script"}},
		{name: "Table", src: "|a|b|\n|-|-|\n|1|2|", want: []string{"<table>", "<td>1</td>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Render(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tt.src, got, w)
				}
			}
			for _, bad := range tt.mustNotHave {
				if strings.Contains(strings.ToLower(got), strings.ToLower(bad)) {
					t.Errorf("Render(%q) = %q, must not contain %q", tt.src, got, bad)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	r := New()
	src := strings.Repeat("Some *Markdown* with a [link](https://example.com) and `code`.\n\n", 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(src); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExcerpt(t *testing.T) {
	r := New()
	render := func(src string) string {
		t.Helper()
		h, err := r.Render(src)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct{ name, src, want string }{
		{"PlainText", "Hello world", "Hello world"},
		{"MarkdownRemoved", "# Title\n\nSome **bold** and `snake_case` with a [link](https://x.example).", "Title Some bold and snake_case with a link."},
		{"Comparison", "a > b and c < d", "a > b and c < d"},
		{"Lists", "- one\n- two", "one two"},
		{"RawHTMLAsText", "<img src=x onerror=alert(2)>", "<img src=x onerror=alert(2)>"},
		{"Image", "See ![a *red* door](https://x.example/d.jpg) here", "See [image: a red door — images are not shown] here"},
		{"Cut", strings.Repeat("word ", 100), strings.TrimSpace(strings.Repeat("word ", 40)) + "…"},
	}
	t.Run("ReadsOnlyTheStart", func(t *testing.T) {
		// A post stored before the rendering limits: megabytes of empty
		// cells, then text. Only the first ExcerptScanBytes are read.
		html := "<p>start</p>" + strings.Repeat("<td></td>", 2*ExcerptScanBytes/9) + "<p>late text</p>"
		if got := Excerpt(html, 200); got != "start" {
			t.Fatalf("Excerpt = %q, want %q", got, "start")
		}
		// The limit falls inside a character: it is left out whole, not
		// shown as a broken one (U+FFFD).
		html = "<p>" + strings.Repeat("é", ExcerptScanBytes) + "</p>"
		if got := Excerpt(html, ExcerptScanBytes); strings.ContainsRune(got, utf8.RuneError) {
			t.Fatalf("Excerpt ends in %q", got[len(got)-6:])
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Excerpt(render(tt.src), 200); got != tt.want {
				t.Fatalf("Excerpt = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestImagePolicy: the sanitiser keeps the image note's class and no
// other, should raw HTML ever reach it (a bare span is harmless).
func TestImagePolicy(t *testing.T) {
	got := policy().Sanitize(`<span class="md-image">a</span><span class="md-image evil">b</span><span>c</span><span class="x" onclick="y()">d</span>`)
	if want := `<span class="md-image">a</span><span>b</span><span>c</span><span>d</span>`; got != want {
		t.Fatalf("Sanitize = %q, want %q", got, want)
	}
}

// TestImagesWithinHTMLBound: a post of nothing but the shortest image,
// whose note is ten times its size, still renders within the bound on
// HTML size (up to the largest content whose HTML MaxHTMLBytes allows at
// MaxHTMLRatio).
func TestImagesWithinHTMLBound(t *testing.T) {
	for _, src := range []string{
		strings.Repeat(strings.Repeat("![]()", 10)+"\n\n", 1000),
		strings.Repeat("![]()\n\n", 8000),
		strings.Repeat("- ![]()\n", 7000),
	} {
		out, err := New().Render(src)
		if err != nil {
			t.Fatalf("Render(%.20q…, %d bytes): %v", src, len(src), err)
		}
		if ratio := float64(len(out)) / float64(len(src)); ratio > MaxHTMLRatio {
			t.Fatalf("ratio %.1f", ratio)
		}
	}
}
