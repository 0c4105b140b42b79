package blog

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// Seeds live in testdata/fuzz/<FuzzName>/ as well; the f.Add calls keep a
// few obvious ones next to the code.

func FuzzPostInputClean(f *testing.F) {
	f.Add("Hello", "Hello, world.")
	f.Add("Cafe\u0301", "line\r\nline\u202E")
	f.Add("\x00\u202E", "\t\n")
	f.Fuzz(func(t *testing.T, title, content string) {
		in := PostInput{Title: title, Content: content}
		err1 := in.Clean()
		checkCleanResult(t, err1)

		if !utf8.ValidString(in.Title) || !utf8.ValidString(in.Content) {
			t.Errorf("Clean produced invalid UTF-8: %+q", in)
		}
		for _, r := range in.Title {
			if unicode.IsControl(r) || isHidden(r) {
				t.Errorf("cleaned Title %+q holds %U", in.Title, r)
			}
		}
		for _, r := range in.Content {
			if (unicode.IsControl(r) && r != '\n' && r != '\t') || isHidden(r) {
				t.Errorf("cleaned Content %+q holds %U", in.Content, r)
			}
		}

		again := in
		err2 := again.Clean()
		if again != in {
			t.Errorf("Clean is not idempotent:\n first  %+q\n second %+q\n from   %+q", in, again, PostInput{Title: title, Content: content})
		}
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(fieldsOf(err1), fieldsOf(err2)) {
			t.Errorf("validity changed on second Clean: %v, then %v", err1, err2)
		}

		// What Clean accepts, a store accepts: NewPost.Validate agrees.
		np := NewPost{Title: in.Title, Content: in.Content}
		if errV := np.Validate(); (err1 == nil) != (errV == nil) {
			t.Errorf("Clean error %v, but NewPost.Validate of the result: %v", err1, errV)
		}
		// PostPatch cleans each field the same way.
		tp, cp := title, content
		patch := PostPatch{Title: &tp, Content: &cp}
		errP := patch.Clean()
		if *patch.Title != in.Title || *patch.Content != in.Content {
			t.Errorf("PostPatch.Clean = %+q, %+q; PostInput.Clean = %+q", *patch.Title, *patch.Content, in)
		}
		if !reflect.DeepEqual(fieldsOf(errP), fieldsOf(err1)) {
			t.Errorf("PostPatch.Clean error %v, PostInput.Clean error %v", errP, err1)
		}
	})
}

// checkCleanResult checks that err is nil or a well-formed *ValidationError.
func checkCleanResult(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		t.Fatalf("Clean error = %v (%T), want *ValidationError with fields", err, err)
	}
	for _, f := range ve.Fields {
		if f.Type != "field" || f.Location != "body" || (f.Path != "title" && f.Path != "content") {
			t.Errorf("malformed field error %+v", f)
		}
	}
}

func fieldsOf(err error) []FieldError {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	return nil
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor{CreatedAt: Now(), ID: NewID()}.Encode())
	f.Add("")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if c != nil {
				t.Fatalf("ParseCursor(%q) returned both %+v and %v", s, *c, err)
			}
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseCursor(%q) error code %q, want %q", s, ErrorCode(err), EINVALID)
			}
			return
		}
		if c == nil {
			t.Fatalf("ParseCursor(%q) returned nil, nil", s)
		}
		if !ValidID(c.ID) {
			t.Errorf("ParseCursor(%q) accepted invalid ID %q", s, c.ID)
		}
		if c.CreatedAt.Before(time.Unix(0, 0)) {
			t.Errorf("ParseCursor(%q) accepted time %v before the epoch", s, c.CreatedAt)
		}
		enc := c.Encode()
		c2, err := ParseCursor(enc)
		if err != nil {
			t.Fatalf("ParseCursor(%q) = %+v, but its encoding %q does not parse: %v", s, *c, enc, err)
		}
		if !c2.CreatedAt.Equal(c.CreatedAt) || c2.ID != c.ID {
			t.Errorf("round trip changed the cursor: %+v → %q → %+v", *c, enc, *c2)
		}
		if enc2 := c2.Encode(); enc2 != enc {
			t.Errorf("encoding is not stable: %q then %q", enc, enc2)
		}
	})
}

// FuzzUsernameSkeleton: the look-alike check must give every username one
// skeleton, the same each time, so that the store's unique index on it
// decides. The seeds are the look-alikes an attacker would try first
// (TestUsernameSkeleton checks that each meets the name it imitates).
func FuzzUsernameSkeleton(f *testing.F) {
	for _, pair := range [][2]string{
		{"alice", "aIice"}, {"alice", "AIice"}, {"alice", "a1ice"},
		{"paypal", "paypa1"}, {"bob", "b0b"}, {"mallory", "rnallory"},
		{"Mary", "rnary"}, {"william", "wiIIiam"},
	} {
		f.Add(pair[0], pair[1])
		seedPairs[pair] = true
	}
	f.Fuzz(func(t *testing.T, name, other string) {
		s := UsernameSkeleton(name)
		if s != UsernameSkeleton(name) {
			t.Fatalf("skeleton of %q is not stable", name)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("skeleton of %q is not UTF-8: %q", name, s)
		}
		if ValidUsername(name) && s == "" {
			t.Fatalf("valid username %q has an empty skeleton", name)
		}
		if name == other && s != UsernameSkeleton(other) {
			t.Fatalf("one name, two skeletons: %q", name)
		}
		// The look-alikes an attacker tries first, made from any name:
		// each must keep the skeleton, or the unique index lets it in.
		if disguised := lookAlike.Replace(name); UsernameSkeleton(disguised) != s {
			t.Fatalf("%q and its look-alike %q have different skeletons", name, disguised)
		}
		if seedPairs[[2]string{name, other}] && s != UsernameSkeleton(other) {
			t.Fatalf("seeded look-alikes %q and %q have different skeletons", name, other)
		}
	})
}

// lookAlike swaps letters and digits for the ASCII characters they are
// mistaken for.
var lookAlike = strings.NewReplacer("l", "I", "o", "0", "m", "rn")

// seedPairs are look-alikes that must share a skeleton.
var seedPairs = map[[2]string]bool{}
