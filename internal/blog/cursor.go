package blog

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Cursor marks a position in the newest-first feed: the last post of the
// previous page. Keyset pagination on (CreatedAt, ID) costs the same on
// page 1 and page 10,000, unlike OFFSET.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// CursorAfter returns the cursor that continues after p.
func CursorAfter(p Post) *Cursor { return &Cursor{CreatedAt: p.CreatedAt, ID: p.ID} }

// Encode returns the cursor as an opaque URL-safe string.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a cursor made by Encode. Anything else is an EINVALID
// error: a cursor is never passed to a query unchecked.
func ParseCursor(s string) (*Cursor, error) {
	bad := Errorf(EINVALID, "Invalid cursor")
	if len(s) > 128 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	micros, id, ok := strings.Cut(string(raw), ".")
	if !ok || !ValidID(id) {
		return nil, bad
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || us < 0 {
		return nil, bad
	}
	c := &Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}
	if c.Encode() != s {
		// One cursor, one spelling: "+5", leading zeros and the like were
		// not made by Encode.
		return nil, bad
	}
	return c, nil
}
