package blog

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// The records of a backup: everything a blog needs to carry on, in a form
// no store dictates, so that a backup of one store restores into any other.
// Times are UTC; IDs and hashes are carried over unchanged (a restored
// account signs in with its old password, its posts keep their URLs).

// UserRecord is an account with everything a store keeps for it.
type UserRecord struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	PasswordHash string    `json:"passwordHash"`
	Role         Role      `json:"role"`
	Disabled     bool      `json:"disabled"`
	TokenVersion int       `json:"tokenVersion"`
	CreatedAt    time.Time `json:"createdAt"`
	// TOTPSecret is sealed (package sealed): a backup holds no usable
	// secret, and restoring needs the same PALISADE_2FA_KEYS.
	TOTPSecret    string   `json:"totpSecret,omitempty"`
	TOTPEnabled   bool     `json:"totpEnabled,omitempty"`
	TOTPLastStep  int64    `json:"totpLastStep,omitempty"`
	RecoveryCodes []string `json:"recoveryCodes,omitempty"` // hashes
}

// PostRecord is a post as stored, its HTML included. Import stores the
// HTML as given; palisade restore renders it again from the content
// first, since a backup file is not trusted to hold safe HTML.
type PostRecord struct {
	ID          string     `json:"id"`
	AuthorID    string     `json:"authorId"`
	Title       string     `json:"title"`
	Content     string     `json:"content"`
	ContentHTML string     `json:"contentHtml"`
	Status      PostStatus `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	PublishedAt *time.Time `json:"publishedAt,omitempty"`
}

// InviteRecord is an invite as stored: its token only as the store keeps
// it, the SHA-256.
type InviteRecord struct {
	Invite
	TokenHash string `json:"tokenHash"`
}

// PasskeyRecord is a passkey as stored (Passkey's JSON names are the
// backup's).
type PasskeyRecord = Passkey

// SettingsRecord is the site's settings.
type SettingsRecord = Settings

// Record is one record of a backup: exactly one field is set.
type Record struct {
	Settings *SettingsRecord `json:"settings,omitempty"`
	User     *UserRecord     `json:"user,omitempty"`
	Post     *PostRecord     `json:"post,omitempty"`
	Invite   *InviteRecord   `json:"invite,omitempty"`
	Passkey  *PasskeyRecord  `json:"passkey,omitempty"`
}

// Counts is how many records of each kind a store holds, for progress and
// for the backup's manifest.
type Counts struct {
	Users    int `json:"users"`
	Posts    int `json:"posts"`
	Invites  int `json:"invites"`
	Passkeys int `json:"passkeys"`
}

// ErrNotEmpty is Import's answer for a store that already holds a user,
// post, invite or passkey: a restore never merges into a live blog.
var ErrNotEmpty = Errorf(ECONFLICT, "The database is not empty: restore into a new, empty one")

// ErrInvalidRecord is Import's answer for a record that sets no field or
// more than one.
var ErrInvalidRecord = Errorf(EINVALID, "A backup record must hold exactly one item")

// ErrDuplicateRecord is Import's answer for a record whose ID another
// record of the backup has already.
var ErrDuplicateRecord = Errorf(ECONFLICT, "A backup record repeats the ID of another")

// BackupStore takes and restores backups.
type BackupStore interface {
	// Count returns how many records Export would write now (an estimate
	// for progress: writes may land before Export begins).
	Count(ctx context.Context) (Counts, error)
	// Export calls emit with every record, from one consistent view of
	// the store (a read transaction on SQL stores), in this order:
	// settings, users, posts, invites, passkeys (so each record's
	// references come before it). A backup taken while the blog serves
	// writes is then whole: every post acknowledged before Export began
	// is in it, and no half-made change is. Sessions, revoked tokens and
	// rate-limit counts are not exported: they expire on their own, and a
	// restored blog starts with everyone signed out.
	Export(ctx context.Context, emit func(Record) error) (Counts, error)
	// Empty reports whether the store holds no user, post, invite or
	// passkey; restore refuses any other store.
	Empty(ctx context.Context) (bool, error)
	// Import loads records, in Export's order, into an empty store: all
	// of them or, on any error, none (one transaction on SQL stores; on
	// MongoDB whatever was inserted is removed again). Returns ErrNotEmpty
	// (ECONFLICT) if the store is not empty. It stores records as they are, checking
	// only what keeps the store sound (references, unique keys).
	Import(ctx context.Context, records iter.Seq2[Record, error]) (Counts, error)
}

// Record kinds, as Kind names them.
const (
	RecordSettings = "settings"
	RecordUser     = "user"
	RecordPost     = "post"
	RecordInvite   = "invite"
	RecordPasskey  = "passkey"
)

// Kind names the one field r sets, or "" if it sets none or more than
// one: a record no store imports.
func (r Record) Kind() string {
	kind, n := "", 0
	for _, f := range []struct {
		set  bool
		name string
	}{
		{r.Settings != nil, RecordSettings},
		{r.User != nil, RecordUser},
		{r.Post != nil, RecordPost},
		{r.Invite != nil, RecordInvite},
		{r.Passkey != nil, RecordPasskey},
	} {
		if f.set {
			kind = f.name
			n++
		}
	}
	if n != 1 {
		return ""
	}
	return kind
}

// Validate checks what every store needs of a record before storing it,
// so that all of them accept and refuse the same backups, and what the
// rest of the blog takes for granted of what a store holds: exactly one
// field set, IDs of the shape NewID makes, known roles and statuses,
// usernames as ValidUsername takes them, titles and content free of what
// cleaning removes and within their maximum lengths, a published post's
// publication time, an invite's token hash, a passkey's credential ID,
// public key and name, and settings as SetSettings takes them. Minimum
// lengths are not checked: they are the editor's rules, not the store's.
// References and unique keys are the store's to check, against what it
// holds.
func (r Record) Validate() error {
	bad := func(what string) error { return Errorf(EINVALID, "Invalid backup record: %s", what) }
	switch r.Kind() {
	case RecordSettings:
		if err := r.Settings.Validate(); err != nil {
			return fmt.Errorf("%w: %w", bad("the settings"), err)
		}
	case RecordUser:
		u := r.User
		switch {
		case !ValidID(u.ID):
			return bad("a user's ID")
		case u.Role.Validate() != nil:
			return bad("a user's role")
		case !ValidUsername(u.Username):
			return bad("a username that is not 3 to 32 letters, digits or underscores")
		}
	case RecordPost:
		p := r.Post
		switch {
		case !ValidID(p.ID), !ValidID(p.AuthorID):
			return bad("a post's ID or author")
		case !p.Status.Valid():
			return bad("a post's status")
		case p.Status == StatusPublished && p.PublishedAt == nil:
			return bad("a published post without its publication time")
		case !isClean(p.Title, false) || length(p.Title) > TitleMax:
			return bad("a post's title (hidden characters, or too long)")
		case !isClean(p.Content, true) || length(p.Content) > ContentMax:
			return bad("a post's content (hidden characters, or too long)")
		}
	case RecordInvite:
		inv := r.Invite
		switch {
		case !ValidID(inv.ID):
			return bad("an invite's ID")
		case inv.Role.Validate() != nil:
			return bad("an invite's role")
		case !ValidInviteTokenHash(inv.TokenHash):
			return bad("an invite's token hash")
		case inv.CreatedBy != "" && !ValidID(inv.CreatedBy), inv.UsedBy != "" && !ValidID(inv.UsedBy):
			return bad("an invite's account")
		}
	case RecordPasskey:
		p := r.Passkey
		switch {
		case p.ID == "", len(p.PublicKey) == 0:
			return bad("a passkey without credential ID or public key")
		case !ValidPasskeyName(p.Name):
			return bad("a passkey's name")
		case !ValidID(p.UserID):
			return bad("a passkey's account")
		}
	default:
		return ErrInvalidRecord
	}
	return nil
}
