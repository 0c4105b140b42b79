package blog

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// encodeRaw base64-encodes raw the way Encode does, to build hostile
// cursors.
func encodeRaw(raw string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// wantInvalid checks that err is an EINVALID *Error.
func wantInvalid(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("error = nil, want EINVALID")
	}
	if code := ErrorCode(err); code != EINVALID {
		t.Errorf("ErrorCode = %q, want %q (error %v)", code, EINVALID, err)
	}
	if msg := ErrorMessage(err); msg != "Invalid cursor" {
		t.Errorf("ErrorMessage = %q, want %q", msg, "Invalid cursor")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"now", Now()},
		{"epoch", time.Unix(0, 0).UTC()},
		{"microseconds", time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC)},
		{"far future", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"other zone", time.Date(2024, 1, 1, 12, 0, 0, 0, time.FixedZone("X", 5*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Cursor{CreatedAt: tt.at, ID: NewID()}
			s := c.Encode()
			if strings.ContainsAny(s, "+/=") {
				t.Errorf("Encode() = %q, not URL-safe unpadded base64", s)
			}
			got, err := ParseCursor(s)
			if err != nil {
				t.Fatalf("ParseCursor(%q): %v", s, err)
			}
			if !got.CreatedAt.Equal(tt.at) || got.ID != c.ID {
				t.Errorf("ParseCursor(Encode(%v)) = %+v, want %+v", c, *got, c)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
			}
		})
	}
}

func TestCursorTruncatesToMicroseconds(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	c := Cursor{CreatedAt: at, ID: NewID()}
	got, err := ParseCursor(c.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond); !got.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}
}

func TestCursorAfter(t *testing.T) {
	p := Post{ID: NewID(), CreatedAt: Now()}
	c := CursorAfter(p)
	if c.ID != p.ID || !c.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("CursorAfter = %+v, want ID %s at %v", *c, p.ID, p.CreatedAt)
	}
}

func TestParseCursorRefuses(t *testing.T) {
	id := NewID()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"garbage", "garbage"},
		{"not base64", "!!!not base64!!!"},
		{"standard base64 alphabet", base64.RawStdEncoding.EncodeToString([]byte("1700000000000000." + id + "\xff\xfe"))},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte("1700000000000000." + id + "x"))},
		{"no separator", encodeRaw("1700000000000000" + id)},
		{"negative time", encodeRaw("-1." + id)},
		{"very negative time", encodeRaw("-9223372036854775808." + id)},
		{"time not a number", encodeRaw("yesterday." + id)},
		{"time empty", encodeRaw("." + id)},
		{"time overflows int64", encodeRaw("99999999999999999999." + id)},
		{"time with fraction", encodeRaw("1.5." + id)},
		{"time in hex", encodeRaw("0x10." + id)},
		{"time with spaces", encodeRaw(" 17 ." + id)},
		{"ID missing", encodeRaw("1700000000000000.")},
		{"ID too short", encodeRaw("1700000000000000." + id[:25])},
		{"ID too long", encodeRaw("1700000000000000." + id + "a")},
		{"ID uppercase", encodeRaw("1700000000000000." + strings.ToUpper(id))},
		{"ID with SQL", encodeRaw("1700000000000000.' OR 1=1 --aaaaaaaaaaaaaaa")},
		{"ID with second separator", encodeRaw("1700000000000000." + id[:13] + "." + id[14:])},
		{"ID padding bits set", encodeRaw("1700000000000000." + id[:25] + "b")},
		{"over-long input", strings.Repeat("A", 129)},
		{"over-long valid-looking input", encodeRaw(strings.Repeat("1", 100) + "." + id)},
		{"NUL bytes", encodeRaw("1\x00." + id)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCursor(tt.in)
			if c != nil {
				t.Errorf("ParseCursor(%q) = %+v, want nil", tt.in, *c)
			}
			wantInvalid(t, err)
		})
	}
}

func TestParseCursorErrorDoesNotEchoInput(t *testing.T) {
	in := encodeRaw("1.<script>alert(1)</script>")
	_, err := ParseCursor(in)
	wantInvalid(t, err)
	if strings.Contains(err.Error(), in) || strings.Contains(err.Error(), "script") {
		t.Errorf("error %q echoes the input", err.Error())
	}
}
