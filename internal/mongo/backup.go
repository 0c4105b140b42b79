package mongo

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Count implements blog.BackupStore.
func (s *Store) Count(ctx context.Context) (blog.Counts, error) {
	var c blog.Counts
	for _, k := range s.backedUp(&c) {
		n, err := k.coll.CountDocuments(ctx, bson.M{})
		if err != nil {
			return blog.Counts{}, fmt.Errorf("count %s: %w", k.coll.Name(), unavailable(err))
		}
		*k.n = int(n)
	}
	return c, nil
}

// Empty implements blog.BackupStore.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	for _, k := range s.backedUp(&blog.Counts{}) {
		err := k.coll.FindOne(ctx, bson.M{}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return false, fmt.Errorf("empty: %w", unavailable(err))
		}
	}
	return true, nil
}

// counted is a collection a backup holds and where its count goes.
type counted struct {
	coll *mongo.Collection
	n    *int
}

// backedUp lists the collections a backup holds, in Export's order, each
// with its place in c.
func (s *Store) backedUp(c *blog.Counts) []counted {
	return []counted{{s.users, &c.Users}, {s.posts, &c.Posts}, {s.invites, &c.Invites}, {s.passkeys, &c.Passkeys}}
}

// exportOrder is the order of every collection in a backup, the same on
// every store: by creation time, then ID (MongoDB compares strings byte
// by byte, as the SQL stores are told to).
var exportOrder = options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})

// Export implements blog.BackupStore. Without a replica set MongoDB has
// no snapshot that spans collections (and FerretDB none at all), so
// Export reads each collection in turn, in the contract's order:
// settings, users, posts, invites, passkeys. Every record written before
// Export began is then in the backup, and every reference is whole where
// it matters: a post's author was read before the post, since accounts
// are read first and a post can only be made by an account that existed
// when it was written. A write landing during Export may or may not be
// in it, and an account deleted during Export may leave a post of its
// behind (Import refuses such a backup, naming the record). Documents
// are handed to emit as the cursor brings them.
func (s *Store) Export(ctx context.Context, emit func(blog.Record) error) (blog.Counts, error) {
	var c blog.Counts
	st, err := s.Settings(ctx)
	if err != nil {
		return blog.Counts{}, fmt.Errorf("export: %w", err)
	}
	if err := emit(blog.Record{Settings: &st}); err != nil {
		return blog.Counts{}, fmt.Errorf("export settings: %w", err)
	}
	steps := []struct {
		coll *mongo.Collection
		fn   func(*mongo.Cursor) (blog.Record, error)
		n    *int
	}{
		{s.users, exportUser, &c.Users},
		{s.posts, exportPost, &c.Posts},
		{s.invites, exportInvite, &c.Invites},
		{s.passkeys, exportPasskey, &c.Passkeys},
	}
	for _, step := range steps {
		n, err := eachDoc(ctx, step.coll, func(cur *mongo.Cursor) error {
			r, err := step.fn(cur)
			if err != nil {
				return err
			}
			return emit(r)
		})
		if err != nil {
			return blog.Counts{}, fmt.Errorf("export %s: %w", step.coll.Name(), err)
		}
		*step.n = n
	}
	return c, nil
}

// eachDoc calls fn with the cursor on each document of coll, in
// exportOrder.
func eachDoc(ctx context.Context, coll *mongo.Collection, fn func(*mongo.Cursor) error) (int, error) {
	cur, err := coll.Find(ctx, bson.M{}, exportOrder)
	if err != nil {
		return 0, unavailable(err)
	}
	defer func() { _ = cur.Close(ctx) }() // read-only; cur.Err reports a failed read
	n := 0
	for cur.Next(ctx) {
		if err := fn(cur); err != nil {
			return n, err
		}
		n++
	}
	return n, unavailable(cur.Err())
}

func exportUser(cur *mongo.Cursor) (blog.Record, error) {
	var d userDoc
	if err := cur.Decode(&d); err != nil {
		return blog.Record{}, err
	}
	codes := slices.Clone(d.RecoveryCodes)
	slices.Sort(codes)
	if len(codes) == 0 {
		codes = nil
	}
	return blog.Record{User: &blog.UserRecord{
		ID:            d.ID,
		Username:      d.Username,
		PasswordHash:  d.PasswordHash,
		Role:          blog.Role(d.Role),
		Disabled:      d.Disabled,
		TokenVersion:  int(d.TokenVersion),
		CreatedAt:     fromMicros(d.CreatedAt),
		TOTPSecret:    d.TOTPSecret,
		TOTPEnabled:   d.TOTPEnabled,
		TOTPLastStep:  d.TOTPLastStep,
		RecoveryCodes: codes,
	}}, nil
}

func exportPost(cur *mongo.Cursor) (blog.Record, error) {
	var d postDoc
	if err := cur.Decode(&d); err != nil {
		return blog.Record{}, err
	}
	// post fills in what posts from before drafts lack.
	p := d.post("")
	return blog.Record{Post: &blog.PostRecord{
		ID:          p.ID,
		AuthorID:    d.Author,
		Title:       p.Title,
		Content:     p.Content,
		ContentHTML: p.ContentHTML,
		Status:      p.Status,
		CreatedAt:   p.CreatedAt,
		UpdatedAt:   p.UpdatedAt,
		PublishedAt: p.PublishedAt.Ptr(),
	}}, nil
}

func exportInvite(cur *mongo.Cursor) (blog.Record, error) {
	var d inviteDoc
	if err := cur.Decode(&d); err != nil {
		return blog.Record{}, err
	}
	return blog.Record{Invite: &blog.InviteRecord{Invite: d.invite(), TokenHash: d.TokenHash}}, nil
}

func exportPasskey(cur *mongo.Cursor) (blog.Record, error) {
	var d passkeyDoc
	if err := cur.Decode(&d); err != nil {
		return blog.Record{}, err
	}
	p := d.passkey()
	return blog.Record{Passkey: &p}, nil
}

// importBatch is how many documents Import sends in one insert.
const importBatch = 500

// importer is one Import under way: the documents waiting to be inserted,
// the IDs of those inserted (to delete again if Import fails), and the
// accounts and names seen so far, which the references and the unique
// keys are checked against before anything is sent.
type importer struct {
	s        *Store
	pending  []any
	coll     *mongo.Collection
	inserted map[*mongo.Collection][]string
	users    map[string]bool
	keys     map[string]bool
	skels    map[string]bool
	settings *blog.Settings
	counts   blog.Counts
}

// Import implements blog.BackupStore. MongoDB without a replica set has
// no transaction: documents are inserted in batches, and if anything
// fails, every document inserted is deleted again, leaving the store
// empty as it was. The settings are written last, once everything else
// is in, so a failed restore leaves them alone too. The emptiness check
// and the inserts are not one atomic step: restore into a blog that is
// not serving.
func (s *Store) Import(ctx context.Context, records iter.Seq2[blog.Record, error]) (blog.Counts, error) {
	empty, err := s.Empty(ctx)
	if err != nil {
		return blog.Counts{}, fmt.Errorf("import: %w", err)
	}
	if !empty {
		return blog.Counts{}, fmt.Errorf("import: %w", blog.ErrNotEmpty)
	}
	im := &importer{
		s:        s,
		inserted: map[*mongo.Collection][]string{},
		users:    map[string]bool{},
		keys:     map[string]bool{},
		skels:    map[string]bool{},
	}
	if err := im.run(ctx, records); err != nil {
		if undo := im.undo(ctx); undo != nil {
			err = errors.Join(err, fmt.Errorf("remove what was imported: %w", undo))
		}
		return blog.Counts{}, fmt.Errorf("import: %w", err)
	}
	return im.counts, nil
}

func (im *importer) run(ctx context.Context, records iter.Seq2[blog.Record, error]) error {
	i := 0
	for r, err := range records {
		if err != nil {
			return err
		}
		i++
		if err := im.add(ctx, r); err != nil {
			return fmt.Errorf("record %d (%s): %w", i, r.Kind(), err)
		}
	}
	if err := im.flush(ctx); err != nil {
		return err
	}
	if im.settings == nil {
		return nil
	}
	_, err := im.s.settings.UpdateOne(ctx, bson.M{"_id": siteSettingsID},
		bson.M{"$set": bson.M{"title": im.settings.Title, "description": im.settings.Description}},
		options.UpdateOne().SetUpsert(true))
	return unavailable(err)
}

// add checks one record and queues its document.
func (im *importer) add(ctx context.Context, r blog.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	switch r.Kind() {
	case blog.RecordSettings:
		st := *r.Settings
		im.settings = &st
		return nil
	case blog.RecordUser:
		d, err := im.user(*r.User)
		if err != nil {
			return err
		}
		im.counts.Users++
		return im.queue(ctx, im.s.users, d.ID, d)
	case blog.RecordPost:
		d, err := im.post(*r.Post)
		if err != nil {
			return err
		}
		im.counts.Posts++
		return im.queue(ctx, im.s.posts, d.ID, d)
	case blog.RecordInvite:
		d, err := im.invite(*r.Invite)
		if err != nil {
			return err
		}
		im.counts.Invites++
		return im.queue(ctx, im.s.invites, d.ID, d)
	case blog.RecordPasskey:
		d, err := im.passkey(*r.Passkey)
		if err != nil {
			return err
		}
		im.counts.Passkeys++
		return im.queue(ctx, im.s.passkeys, d.ID, d)
	}
	return blog.ErrInvalidRecord
}

// user makes an account's document, its keys computed as insertUser
// computes them. A look-alike of an earlier account (a pair registered
// before look-alikes were refused, of which the younger kept working)
// gets a placeholder skeleton, as such accounts have on this store,
// rather than failing the restore; the same name in another case still
// fails it.
func (im *importer) user(u blog.UserRecord) (userDoc, error) {
	if im.users[u.ID] {
		return userDoc{}, blog.ErrDuplicateRecord
	}
	key, skel := blog.UsernameKey(u.Username), blog.UsernameSkeleton(u.Username)
	if im.keys[key] {
		return userDoc{}, blog.ErrUsernameTaken
	}
	if im.skels[skel] {
		skel = placeholderPrefix + u.ID
	}
	im.users[u.ID], im.keys[key], im.skels[skel] = true, true, true
	return userDoc{
		ID:               u.ID,
		Username:         u.Username,
		UsernameKey:      key,
		UsernameSkeleton: skel,
		PasswordHash:     u.PasswordHash,
		Role:             string(u.Role),
		Disabled:         u.Disabled,
		TokenVersion:     int64(u.TokenVersion),
		CreatedAt:        micros(u.CreatedAt),
		TOTPSecret:       u.TOTPSecret,
		TOTPEnabled:      u.TOTPEnabled,
		TOTPLastStep:     u.TOTPLastStep,
		RecoveryCodes:    slices.Compact(slices.Sorted(slices.Values(u.RecoveryCodes))),
	}, nil
}

func (im *importer) post(p blog.PostRecord) (postDoc, error) {
	if !im.users[p.AuthorID] {
		return postDoc{}, blog.ErrAuthorNotFound
	}
	d := postDoc{
		ID:          p.ID,
		Author:      p.AuthorID,
		Title:       p.Title,
		Content:     p.Content,
		ContentHTML: p.ContentHTML,
		CreatedAt:   micros(p.CreatedAt),
		UpdatedAt:   micros(p.UpdatedAt),
		Status:      string(p.Status),
	}
	if p.PublishedAt != nil {
		d.PublishedAt = microsOrNil(blog.NullTime{Time: *p.PublishedAt})
	}
	return d, nil
}

func (im *importer) invite(inv blog.InviteRecord) (inviteDoc, error) {
	for _, id := range []string{inv.CreatedBy, inv.UsedBy} {
		if id != "" && !im.users[id] {
			return inviteDoc{}, blog.ErrUserNotFound
		}
	}
	return inviteDoc{
		ID:        inv.ID,
		TokenHash: inv.TokenHash,
		Role:      string(inv.Role),
		CreatedBy: inv.CreatedBy,
		CreatedAt: micros(inv.CreatedAt),
		ExpiresAt: micros(inv.ExpiresAt),
		UsedAt:    microsPtr(inv.UsedAt),
		UsedBy:    inv.UsedBy,
		RevokedAt: microsPtr(inv.RevokedAt),
	}, nil
}

func (im *importer) passkey(p blog.Passkey) (passkeyDoc, error) {
	if !im.users[p.UserID] {
		return passkeyDoc{}, blog.ErrUserNotFound
	}
	d := passkeyDoc{
		ID:              p.ID,
		UserID:          p.UserID,
		Name:            p.Name,
		PublicKey:       p.PublicKey,
		AttestationType: p.AttestationType,
		AAGUID:          p.AAGUID,
		Transports:      p.Transports,
		SignCount:       int64(p.SignCount),
		BackupEligible:  p.BackupEligible,
		BackupState:     p.BackupState,
		CreatedAt:       micros(p.CreatedAt),
	}
	if !p.LastUsedAt.IsZero() {
		d.LastUsedAt = micros(p.LastUsedAt)
	}
	return d, nil
}

// microsPtr is t in Unix microseconds, nil for no time.
func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	m := micros(*t)
	return &m
}

// queue adds a document for coll, sending the batch first if it is for
// another collection or full. Its ID is counted as inserted before it is
// sent: whatever an insert that failed midway stored is deleted with the
// rest (the store was empty, so nothing else has that ID).
func (im *importer) queue(ctx context.Context, coll *mongo.Collection, id string, doc any) error {
	if im.coll != coll || len(im.pending) >= importBatch {
		if err := im.flush(ctx); err != nil {
			return err
		}
	}
	im.coll = coll
	im.pending = append(im.pending, doc)
	im.inserted[coll] = append(im.inserted[coll], id)
	return nil
}

// flush inserts the pending documents.
func (im *importer) flush(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	_, err := im.coll.InsertMany(ctx, im.pending, options.InsertMany().SetOrdered(true))
	im.pending = im.pending[:0]
	if mongo.IsDuplicateKeyError(err) {
		// The checks in add catch repeated accounts and names; this is
		// a repeated post, invite or passkey ID.
		return fmt.Errorf("insert %s: %w", im.coll.Name(), blog.ErrDuplicateRecord)
	}
	if err != nil {
		return fmt.Errorf("insert %s: %w", im.coll.Name(), unavailable(err))
	}
	return nil
}

// undo deletes every document Import inserted, in batches, even if ctx
// was cancelled (a restore cut short must still leave the store empty),
// within a time limit.
func (im *importer) undo(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	for _, k := range im.s.backedUp(&blog.Counts{}) {
		for ids := range slices.Chunk(im.inserted[k.coll], importBatch) {
			if _, err := k.coll.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
				errs = append(errs, unavailable(err))
			}
		}
	}
	return errors.Join(errs...)
}
