package blog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FieldError describes one invalid field, in express-validator's shape so
// that clients written against the tutorial's API keep working. The value is
// never echoed back: it may be a password.
type FieldError struct {
	Type     string `json:"type"`     // always "field"
	Path     string `json:"path"`     // the field's name, e.g. "title"
	Location string `json:"location"` // "body" or "query"
	Msg      string `json:"msg"`
}

// ValidationError lists every invalid field of one request.
type ValidationError struct {
	Fields []FieldError
}

// Error implements the error interface.
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Path + ": " + f.Msg
	}
	return "validation failed: " + strings.Join(msgs, "; ")
}

// validation collects field errors; its zero value is ready to use.
type validation struct{ fields []FieldError }

func (v *validation) add(location, path, msg string) {
	v.fields = append(v.fields, FieldError{Type: "field", Path: path, Location: location, Msg: msg})
}

// err returns nil when nothing was added, so callers can `return v.err()`.
func (v *validation) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

// CleanLine normalises single-line text such as a title: NFC normalisation
// (so visually equal strings are stored equal), every control and
// bidirectional-override character removed (they hide or reorder what a
// reader sees), and surrounding white space trimmed. It does not
// HTML-escape: text is stored as written and encoded where it is output.
func CleanLine(s string) string {
	// Remove first, then normalise: removing a character from between a
	// letter and its accent would otherwise leave text that is not NFC, and
	// cleaning it again would change it.
	return strings.TrimSpace(norm.NFC.String(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isHidden(r) {
			return -1
		}
		return r
	}, s)))
}

// CleanText normalises multi-line text such as post content like CleanLine,
// but keeps newlines and tabs. "\r\n" becomes "\n".
func CleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(norm.NFC.String(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || isHidden(r) {
			return -1
		}
		return r
	}, s)))
}

// isHidden reports characters that change what a reader sees without being
// seen: the explicit directional embeddings, overrides and isolates
// (U+202A–U+202E, U+2066–U+2069, the "Trojan Source" characters), the
// directional marks, and zero-width spaces that make an empty-looking title
// pass a length check. The zero-width joiner and non-joiner stay: emoji
// sequences and several scripts need them.
func isHidden(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200B, r == 0x200E, r == 0x200F, r == 0x2060, r == 0xFEFF:
		return true
	}
	return false
}

// length counts characters (code points after NFC), not bytes, so limits
// mean the same in every script.
func length(s string) int { return utf8.RuneCountInString(s) }

// Field limits, in characters.
const (
	TitleMin    = 3
	TitleMax    = 200
	ContentMin  = 10
	ContentMax  = 100_000
	UsernameMin = 3
	UsernameMax = 32
	// PasswordMin and PasswordMax follow NIST SP 800-63B-4 for
	// password-only authentication: at least 15 characters, and at least 64
	// allowed (we allow 128, enough for any passphrase, small enough that
	// hashing it is cheap).
	PasswordMin = 15
	PasswordMax = 128
)

func checkTitle(v *validation, title string) {
	switch n := length(title); {
	case n < TitleMin:
		v.add("body", "title", "Title too short")
	case n > TitleMax:
		v.add("body", "title", "Title too long")
	}
}

func checkContent(v *validation, content string) {
	switch n := length(content); {
	case n < ContentMin:
		v.add("body", "content", "Content too short")
	case n > ContentMax:
		v.add("body", "content", "Content too long")
	}
}

// checkCleanTitle refuses a title that CleanLine would change (a caller
// skipped Clean) and then applies checkTitle.
func checkCleanTitle(v *validation, title string) {
	if !isClean(title, false) {
		v.add("body", "title", "Title holds hidden characters, surrounding spaces or text not in NFC")
		return
	}
	checkTitle(v, title)
}

// checkCleanContent is checkCleanTitle for content (CleanText).
func checkCleanContent(v *validation, content string) {
	if !isClean(content, true) {
		v.add("body", "content", "Content holds hidden characters, surrounding spaces or text not in NFC")
		return
	}
	checkContent(v, content)
}

// isClean reports whether CleanText (multiline) or CleanLine would return s
// unchanged. Both copy nothing when there is nothing to change, so the
// check costs one pass over s.
func isClean(s string, multiline bool) bool {
	if multiline {
		return CleanText(s) == s
	}
	return CleanLine(s) == s
}

// InvalidContent is the validation error for post content that is refused
// for what it would cost to render (too deep, too many table cells, …):
// the same shape as "Content too long", with msg saying which bound.
func InvalidContent(msg string) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Type: "field", Path: "content", Location: "body", Msg: msg}}}
}
