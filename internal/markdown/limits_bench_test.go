package markdown

import (
	"strings"
	"testing"
)

// benchSize is the size of every input of BenchmarkRenderWorst: about the
// largest post allowed (100,000 characters).
const benchSize = 100_000

// prose is plain text in paragraphs, to n bytes.
func prose(n int) string {
	p := "Plain prose of the ordinary kind, words and more words in a paragraph of a post.\n\n"
	return strings.Repeat(p, n/len(p)+1)[:n]
}

// fill repeats unit to benchSize bytes.
func fill(unit string) string { return strings.Repeat(unit, benchSize/len(unit)+1)[:benchSize] }

// padded returns attack followed by prose up to benchSize bytes (attack
// alone if it is longer).
func padded(attack string) string {
	if len(attack)+2 >= benchSize {
		return attack
	}
	return attack + "\n\n" + prose(benchSize-len(attack)-2)
}

// largest returns make(n) for the largest n that Render accepts within
// benchSize bytes, so that each input is as bad as the limits allow.
func largest(r *Renderer, make func(n int) string) string {
	ok := func(n int) bool {
		s := make(n)
		if len(s) > benchSize {
			return false
		}
		_, err := r.Render(s)
		return err == nil
	}
	lo, hi := 1, 2
	for hi < benchSize && ok(hi) {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return make(lo)
}

// BenchmarkRenderWorst renders, at the same size, plain prose and the
// worst inputs found that are still within the limits: each is as large
// as the limits allow. Compare each ns/op with Prose's.
func BenchmarkRenderWorst(b *testing.B) {
	r := New()
	inputs := []struct {
		name string
		make func(n int) string
	}{
		{"Prose", func(int) string { return prose(benchSize) }},
		{"FormattedProse", func(int) string { return formattedProse(benchSize / 200)[:benchSize] }},
		// Each '[' opens a label whose "(" then scans to the end of the
		// paragraph: cubic in goldmark.
		{"EmptyLinks", func(n int) string { return padded(strings.Repeat("[](", n)) }},
		{"Images", func(n int) string { return padded(strings.Repeat("![](", n)) }},
		{"Brackets", func(n int) string { return padded(strings.Repeat("[", n)) }},
		{"LinkOpenersOverLines", func(n int) string { return padded(strings.Repeat("[a](\n", n)) }},
		// Each "<a " is read as a tag to the end of the paragraph.
		{"TagOpenersThenText", func(n int) string {
			return (strings.Repeat("<a ", n) + fill("word "))[:benchSize]
		}},
		{"Emphasis", func(n int) string { return padded(strings.Repeat("a* ", n)) }},
		{"Underscores", func(n int) string { return padded(strings.Repeat("_a", n)) }},
		{"QuoteDepthThenLazyLines", func(int) string {
			return strings.Repeat(">", MaxDepth) + " a\n" + fill("lazy line\n")[:benchSize-MaxDepth-3]
		}},
		{"ListDepthRepeated", func(int) string { return fill(nestedList(MaxDepth) + "\n") }},
		{"MarkerDepthRepeated", func(n int) string { return padded(strings.Repeat(strings.Repeat("- ", MaxDepth)+"a\n", n)) }},
		{"Table", func(n int) string { return padded(linkTable(10, n)) }},
		{"WideTable", func(n int) string { return padded(tableBomb(100, n)) }},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			src := largest(r, in.make)
			if _, err := r.Render(src); err != nil {
				b.Fatalf("input refused: %v", err)
			}
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := r.Render(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
