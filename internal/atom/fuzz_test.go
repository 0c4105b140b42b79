package atom

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// FuzzMarshal: whatever text a title, author name or post holds, the feed
// is well-formed XML whose only elements are the feed's own, and each text
// reads back as written, but for the characters XML cannot carry, which
// become U+FFFD.
func FuzzMarshal(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, s, "<p>"+s+"</p>")
	}
	f.Add("", "", "")
	f.Add("\r\n\t", " ", "\r")
	f.Fuzz(func(t *testing.T, title, name, content string) {
		feed := &Feed{
			Title:   title,
			SiteURL: "https://blog.example/",
			FeedURL: "https://blog.example/feed.xml",
			Entries: []Entry{{
				ID:          "tag:blog.example,2026-11-01:post/1",
				Title:       title,
				Author:      Person{Name: name},
				Updated:     t0,
				Link:        "https://blog.example/post/1",
				ContentHTML: content,
			}},
		}
		if name == "" {
			feed.Author = &Person{Name: "site"}
		}
		doc, err := Marshal(feed)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Title string `xml:"http://www.w3.org/2005/Atom title"`
			Entry struct {
				Title   string `xml:"http://www.w3.org/2005/Atom title"`
				Name    string `xml:"http://www.w3.org/2005/Atom author>name"`
				Content string `xml:"http://www.w3.org/2005/Atom content"`
			} `xml:"http://www.w3.org/2005/Atom entry"`
		}
		if err := xml.Unmarshal(doc, &got); err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
		// A CR survives because it is written as a character reference
		// (a parser would turn a literal one into LF).
		same := func(field, got, want string) {
			want = xmlChars(want)
			if got != want {
				t.Fatalf("%s = %q, want %q", field, got, want)
			}
		}
		same("feed title", got.Title, title)
		same("entry title", got.Entry.Title, title)
		if name != "" {
			same("author", got.Entry.Name, name)
		}
		same("content", got.Entry.Content, content)
		d := xml.NewDecoder(bytes.NewReader(doc))
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Space != "http://www.w3.org/2005/Atom" {
				t.Fatalf("foreign element %v in\n%s", se.Name, doc)
			}
			if _, ok := tok.(xml.Directive); ok {
				t.Fatalf("directive in\n%s", doc)
			}
		}
	})
}

// xmlChars is s with each byte that is not UTF-8 and each character
// outside XML's Char production replaced by U+FFFD (xmlClean without the
// trimming a feed reader adds).
func xmlChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}
