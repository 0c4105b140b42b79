// Package backup is the file a Palisade backup is: a tar stream of one
// JSON Lines part per kind of record, then a manifest with each part's
// SHA-256 and record count, optionally encrypted whole with age. It knows
// the records of package blog and nothing of any store: Write takes a
// store's Export, Open gives records for a store's Import.
package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/palisade-blog/palisade/internal/blog"
)

// FormatVersion is the version of the file this Palisade writes, and the
// newest it reads. It goes up when an older Palisade could not restore a
// file correctly (a new part, a new field it would drop).
const FormatVersion = 1

// manifestName is the name of the last entry of the tar stream.
const manifestName = "manifest.json"

// manifestSumKey is the PAX record of the manifest's tar header that
// holds the manifest's own SHA-256: the manifest cannot hold it, and
// without it a flipped byte in, say, the creation time would go unseen.
const manifestSumKey = "PALISADE.sha256"

// partNames are the parts in the order Export emits their records and
// Import takes them back: each record's references come before it.
var partNames = [...]string{"settings.jsonl", "users.jsonl", "posts.jsonl", "invites.jsonl", "passkeys.jsonl"}

const (
	kindSettings = iota
	kindUsers
	kindPosts
	kindInvites
	kindPasskeys
	kindCount
)

// Manifest describes a backup: it is written last, so a file that has one
// was written to the end.
type Manifest struct {
	Format          int       `json:"format"`
	CreatedAt       time.Time `json:"createdAt"`
	Store           string    `json:"store"` // sqlite, postgres or mongodb
	PalisadeVersion string    `json:"palisadeVersion"`
	Parts           []Part    `json:"parts"`
}

// Part is one part of a backup as the manifest records it.
type Part struct {
	Name    string `json:"name"`
	Records int    `json:"records"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"` // hex
}

// Counts is how many records of each kind the manifest lists.
func (m Manifest) Counts() blog.Counts {
	var c blog.Counts
	for _, p := range m.Parts {
		switch p.Name {
		case partNames[kindUsers]:
			c.Users = p.Records
		case partNames[kindPosts]:
			c.Posts = p.Records
		case partNames[kindInvites]:
			c.Invites = p.Records
		case partNames[kindPasskeys]:
			c.Passkeys = p.Records
		}
	}
	return c
}

// Records is how many records the manifest lists, settings included.
func (m Manifest) Records() int {
	n := 0
	for _, p := range m.Parts {
		n += p.Records
	}
	return n
}

// kindOf returns the part a record belongs in; exactly one of its fields
// must be set.
func kindOf(r blog.Record) (int, error) {
	kind, set := -1, 0
	for k, present := range [kindCount]bool{r.Settings != nil, r.User != nil, r.Post != nil, r.Invite != nil, r.Passkey != nil} {
		if present {
			kind, set = k, set+1
		}
	}
	if set != 1 {
		return 0, fmt.Errorf("a record has %d kinds set, want exactly one", set)
	}
	return kind, nil
}

// payload is the value of a record that its part's line holds.
func payload(r blog.Record, kind int) any {
	switch kind {
	case kindSettings:
		return r.Settings
	case kindUsers:
		return r.User
	case kindPosts:
		return r.Post
	case kindInvites:
		return r.Invite
	default:
		return r.Passkey
	}
}

// decodeLine decodes one line of the part of this kind: one JSON value and
// nothing after it.
func decodeLine(line []byte, kind int) (blog.Record, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	r, err := decodeRecord(dec, kind)
	if errors.Is(err, io.EOF) {
		return blog.Record{}, errors.New("an empty line")
	}
	if err != nil {
		return blog.Record{}, err
	}
	if dec.More() {
		return blog.Record{}, errors.New("more than one record on a line")
	}
	return r, nil
}

// decodeRecord reads the next line of the part of this kind into a
// record. Unknown fields are refused: a field this Palisade does not know
// would be dropped, and a file that has one was made by a newer one.
func decodeRecord(dec *json.Decoder, kind int) (blog.Record, error) {
	var r blog.Record
	var v any
	switch kind {
	case kindSettings:
		r.Settings = new(blog.SettingsRecord)
		v = r.Settings
	case kindUsers:
		r.User = new(blog.UserRecord)
		v = r.User
	case kindPosts:
		r.Post = new(blog.PostRecord)
		v = r.Post
	case kindInvites:
		r.Invite = new(blog.InviteRecord)
		v = r.Invite
	default:
		r.Passkey = new(blog.PasskeyRecord)
		v = r.Passkey
	}
	if err := dec.Decode(v); err != nil {
		return blog.Record{}, err
	}
	return r, nil
}

// errEncrypted is returned by Open for an encrypted file and no identity.
var errEncrypted = errors.New("the backup is encrypted with age: restore needs --age-identity FILE")

// errNotEncrypted is returned by Open for identities and a plain file.
var errNotEncrypted = errors.New("the backup is not encrypted, yet --age-identity was given: it may not be the file you encrypted; restore it without --age-identity only if you trust it")
