package blog

import (
	"errors"
	"strings"
	"testing"
)

// fieldErrors returns the fields of err, failing the test if err is not a
// *ValidationError.
func fieldErrors(t *testing.T, err error) []FieldError {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want *ValidationError", err, err)
	}
	return ve.Fields
}

// wantFields checks that err lists exactly the given (path, msg) pairs, in
// order, each in express-validator's shape for the request body.
func wantFields(t *testing.T, err error, want ...[2]string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("error = %v, want nil", err)
		}
		return
	}
	got := fieldErrors(t, err)
	if len(got) != len(want) {
		t.Fatalf("fields = %+v, want %d: %v", got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Type != "field" || g.Location != "body" || g.Path != w[0] || g.Msg != w[1] {
			t.Errorf("field %d = %+v, want {Type:field Path:%s Location:body Msg:%s}", i, g, w[0], w[1])
		}
	}
}

func TestCleanLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello, world", "Hello, world"},
		{"empty", "", ""},
		{"nfc combining acute", "Caf\u0065\u0301", "Caf\u00e9"},
		{"nfc already composed", "Caf\u00e9", "Caf\u00e9"},
		{"trims spaces", "  padded  ", "padded"},
		{"trims unicode spaces", "\u00a0\u3000title\u2003", "title"},
		{"removes NUL", "a\x00b", "ab"},
		{"removes escape", "red\x1b[31mtext", "red[31mtext"},
		{"removes DEL", "a\x7fb", "ab"},
		{"removes C1 control", "a\u0085b", "ab"},
		{"removes newline", "line one\nline two", "line oneline two"},
		{"removes CRLF", "a\r\nb", "ab"},
		{"removes tab", "a\tb", "ab"},
		{"removes RLO", "abc\u202Edef", "abcdef"},
		{"removes all bidi embeddings and overrides", "\u202Aa\u202Bb\u202Cc\u202Dd\u202Ee", "abcde"},
		{"removes bidi isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"removes controls then trims", "\x00  title  \x00", "title"},
		// Removing a control or bidi character can bring a base letter and
		// a combining mark together; the result must still be NFC.
		{"nfc after removing NUL", "e\x00\u0301te", "\u00e9te"},
		{"nfc after removing RLO", "e\u202E\u0301te", "\u00e9te"},
		{"keeps script tag verbatim", "<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"keeps ampersand and quotes", `Tom & "Jerry" 'x'`, `Tom & "Jerry" 'x'`},
		{"keeps CJK", "日本語", "日本語"},
		{"keeps emoji", "🎉 party", "🎉 party"},
		{"keeps emoji ZWJ sequence", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanLine(tt.in); got != tt.want {
				t.Errorf("CleanLine(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Some content", "Some content"},
		{"nfc", "e\u0301t\u0065\u0301", "\u00e9t\u00e9"},
		{"keeps newlines", "a\nb\n\nc", "a\nb\n\nc"},
		{"keeps tabs", "a\tb", "a\tb"},
		{"CRLF to LF", "a\r\nb\r\nc", "a\nb\nc"},
		{"lone CR removed", "a\rb", "ab"},
		{"CR CR LF", "a\r\r\nb", "a\nb"},
		{"removes NUL", "a\x00b", "ab"},
		{"removes escape", "a\x1bb", "ab"},
		{"removes vertical tab and form feed", "a\vb\fc", "abc"},
		{"removes RLO", "x\u202Ey", "xy"},
		{"removes isolates", "\u2066x\u2069", "x"},
		{"nfc after removing CR", "a\r\u0301", "\u00e1"},
		{"trims surrounding space and newlines", "\n\t  body  \n\n", "body"},
		{"keeps inner indentation", "code:\n\tindented\n    spaces", "code:\n\tindented\n    spaces"},
		{"keeps markdown and html verbatim", "# T\n<script>x</script> & <b>", "# T\n<script>x</script> & <b>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanText(tt.in); got != tt.want {
				t.Errorf("CleanText(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPostInputClean(t *testing.T) {
	validContent := "Ten chars!"
	tests := []struct {
		name    string
		in      PostInput
		want    PostInput   // after Clean
		wantErr [][2]string // (path, msg) pairs; nil means valid
	}{
		{
			name: "valid",
			in:   PostInput{Title: "Hello", Content: "Hello, world."},
			want: PostInput{Title: "Hello", Content: "Hello, world."},
		},
		{
			name: "three CJK characters are enough",
			in:   PostInput{Title: "日本語", Content: validContent},
			want: PostInput{Title: "日本語", Content: validContent},
		},
		{
			name: "three emoji are enough",
			in:   PostInput{Title: "🎉🎉🎉", Content: validContent},
			want: PostInput{Title: "🎉🎉🎉", Content: validContent},
		},
		{
			name:    "one emoji is too short though four bytes",
			in:      PostInput{Title: "🎉", Content: validContent},
			want:    PostInput{Title: "🎉", Content: validContent},
			wantErr: [][2]string{{"title", "Title too short"}},
		},
		{
			name:    "two characters too short",
			in:      PostInput{Title: "ab", Content: validContent},
			want:    PostInput{Title: "ab", Content: validContent},
			wantErr: [][2]string{{"title", "Title too short"}},
		},
		{
			name:    "spaces do not count",
			in:      PostInput{Title: "  ab  ", Content: validContent},
			want:    PostInput{Title: "ab", Content: validContent},
			wantErr: [][2]string{{"title", "Title too short"}},
		},
		{
			name:    "combining sequence counts once",
			in:      PostInput{Title: "e\u0301e", Content: validContent},
			want:    PostInput{Title: "\u00e9e", Content: validContent},
			wantErr: [][2]string{{"title", "Title too short"}},
		},
		{
			name: "200 characters is the maximum",
			in:   PostInput{Title: strings.Repeat("a", 200), Content: validContent},
			want: PostInput{Title: strings.Repeat("a", 200), Content: validContent},
		},
		{
			name: "200 multibyte characters is allowed",
			in:   PostInput{Title: strings.Repeat("語", 200), Content: validContent},
			want: PostInput{Title: strings.Repeat("語", 200), Content: validContent},
		},
		{
			name:    "201 characters too long",
			in:      PostInput{Title: strings.Repeat("a", 201), Content: validContent},
			want:    PostInput{Title: strings.Repeat("a", 201), Content: validContent},
			wantErr: [][2]string{{"title", "Title too long"}},
		},
		{
			name:    "201 emoji too long",
			in:      PostInput{Title: strings.Repeat("😀", 201), Content: validContent},
			want:    PostInput{Title: strings.Repeat("😀", 201), Content: validContent},
			wantErr: [][2]string{{"title", "Title too long"}},
		},
		{
			name:    "content too short",
			in:      PostInput{Title: "Title", Content: "123456789"},
			want:    PostInput{Title: "Title", Content: "123456789"},
			wantErr: [][2]string{{"content", "Content too short"}},
		},
		{
			name: "content of ten multibyte characters",
			in:   PostInput{Title: "Title", Content: strings.Repeat("é", 10)},
			want: PostInput{Title: "Title", Content: strings.Repeat("é", 10)},
		},
		{
			name: "content at maximum",
			in:   PostInput{Title: "Title", Content: strings.Repeat("x", ContentMax)},
			want: PostInput{Title: "Title", Content: strings.Repeat("x", ContentMax)},
		},
		{
			name:    "content too long",
			in:      PostInput{Title: "Title", Content: strings.Repeat("x", ContentMax+1)},
			want:    PostInput{Title: "Title", Content: strings.Repeat("x", ContentMax+1)},
			wantErr: [][2]string{{"content", "Content too long"}},
		},
		{
			name:    "both fields listed",
			in:      PostInput{Title: "", Content: ""},
			want:    PostInput{},
			wantErr: [][2]string{{"title", "Title too short"}, {"content", "Content too short"}},
		},
		{
			name:    "controls removed before counting",
			in:      PostInput{Title: "a\x00\x00\u202Eb", Content: validContent},
			want:    PostInput{Title: "ab", Content: validContent},
			wantErr: [][2]string{{"title", "Title too short"}},
		},
		{
			name: "script title kept verbatim",
			in:   PostInput{Title: "<script>alert('x')</script>", Content: "<img src=x onerror=alert(1)>"},
			want: PostInput{Title: "<script>alert('x')</script>", Content: "<img src=x onerror=alert(1)>"},
		},
		{
			name: "cleaned in place",
			in:   PostInput{Title: "  Cafe\u0301\u202E  ", Content: "\r\nline one\r\nline two\x00\r\n"},
			want: PostInput{Title: "Caf\u00e9", Content: "line one\nline two"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := in.Clean()
			wantFields(t, err, tt.wantErr...)
			if in != tt.want {
				t.Errorf("after Clean = %+q, want %+q", in, tt.want)
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	in := PostInput{Title: "x", Content: "y"}
	err := in.Clean()
	want := "validation failed: title: Title too short; content: Content too short"
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %q", err, want)
	}
}

func TestPostPatchClean(t *testing.T) {
	ptr := func(s string) *string { return &s }
	tests := []struct {
		name        string
		in          PostPatch
		wantTitle   *string
		wantContent *string
		wantErr     [][2]string
	}{
		{
			name:    "empty patch invalid",
			in:      PostPatch{},
			wantErr: [][2]string{{"title", "Nothing to update: send title, content or status"}},
		},
		{
			name:      "title only",
			in:        PostPatch{Title: ptr("  New title\u202E ")},
			wantTitle: ptr("New title"),
		},
		{
			name:        "content only",
			in:          PostPatch{Content: ptr("New content\r\nhere")},
			wantContent: ptr("New content\nhere"),
		},
		{
			name:        "both",
			in:          PostPatch{Title: ptr("Cafe\u0301"), Content: ptr("Long enough content")},
			wantTitle:   ptr("Caf\u00e9"),
			wantContent: ptr("Long enough content"),
		},
		{
			name:      "title too short",
			in:        PostPatch{Title: ptr("ab")},
			wantTitle: ptr("ab"),
			wantErr:   [][2]string{{"title", "Title too short"}},
		},
		{
			name:      "title too long",
			in:        PostPatch{Title: ptr(strings.Repeat("é", 201))},
			wantTitle: ptr(strings.Repeat("é", 201)),
			wantErr:   [][2]string{{"title", "Title too long"}},
		},
		{
			name:        "content too short",
			in:          PostPatch{Content: ptr("short")},
			wantContent: ptr("short"),
			wantErr:     [][2]string{{"content", "Content too short"}},
		},
		{
			name:        "content too long",
			in:          PostPatch{Content: ptr(strings.Repeat("x", ContentMax+1))},
			wantContent: ptr(strings.Repeat("x", ContentMax+1)),
			wantErr:     [][2]string{{"content", "Content too long"}},
		},
		{
			name:        "present empty strings are checked",
			in:          PostPatch{Title: ptr(""), Content: ptr("")},
			wantTitle:   ptr(""),
			wantContent: ptr(""),
			wantErr:     [][2]string{{"title", "Title too short"}, {"content", "Content too short"}},
		},
		{
			name:      "absent content not checked",
			in:        PostPatch{Title: ptr("Fine title")},
			wantTitle: ptr("Fine title"),
		},
		{
			name:      "script title kept verbatim",
			in:        PostPatch{Title: ptr("<script>alert(1)</script>")},
			wantTitle: ptr("<script>alert(1)</script>"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in
			err := p.Clean()
			wantFields(t, err, tt.wantErr...)
			checkPtr(t, "Title", p.Title, tt.wantTitle)
			checkPtr(t, "Content", p.Content, tt.wantContent)
		})
	}
}

func TestPostPatchCleanDoesNotModifyCallerString(t *testing.T) {
	orig := "  spaced title  "
	p := PostPatch{Title: &orig}
	if err := p.Clean(); err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if orig != "  spaced title  " {
		t.Errorf("caller's string changed to %q", orig)
	}
	if *p.Title != "spaced title" {
		t.Errorf("Title = %q, want %q", *p.Title, "spaced title")
	}
}

func checkPtr(t *testing.T, name string, got, want *string) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", name, deref(got), deref(want))
	case *got != *want:
		t.Errorf("%s = %q, want %q", name, *got, *want)
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
