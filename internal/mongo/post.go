package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// postDoc is a document of the posts collection.
type postDoc struct {
	ID          string `bson:"_id"`
	Author      string `bson:"author"` // the author's users._id
	Title       string `bson:"title"`
	Content     string `bson:"content"`
	ContentHTML string `bson:"contentHtml"`
	CreatedAt   int64  `bson:"createdAt"` // Unix microseconds
	UpdatedAt   int64  `bson:"updatedAt"` // Unix microseconds
	// Status and PublishedAt (Unix microseconds) came with drafts. Posts
	// stored before have neither and read as published at their
	// creation: they were all public. Nothing rewrites them.
	Status      string `bson:"status,omitempty"`
	PublishedAt *int64 `bson:"publishedAt,omitempty"`
}

func (d postDoc) post(username string) blog.Post {
	p := blog.Post{
		ID:          d.ID,
		Title:       d.Title,
		Content:     d.Content,
		ContentHTML: d.ContentHTML,
		Author:      blog.Author{ID: d.Author, Username: username},
		Status:      blog.PostStatus(d.Status),
		CreatedAt:   fromMicros(d.CreatedAt),
		UpdatedAt:   fromMicros(d.UpdatedAt),
	}
	if p.Status == "" {
		p.Status = blog.StatusPublished
	}
	switch {
	case d.PublishedAt != nil:
		p.PublishedAt = blog.NullTime{Time: fromMicros(*d.PublishedAt)}
	case p.Status == blog.StatusPublished:
		p.PublishedAt = blog.NullTime{Time: p.CreatedAt}
	}
	return p
}

// microsOrNil returns t in Unix microseconds, or nil for no time.
func microsOrNil(t blog.NullTime) *int64 {
	if t.IsZero() {
		return nil
	}
	m := micros(t.Time)
	return &m
}

// statusFilter matches the posts of status: a draft has "draft" stored; a
// published post "published", or no status at all if it predates drafts.
func statusFilter(status blog.PostStatus) any {
	if status == blog.StatusDraft {
		return string(blog.StatusDraft)
	}
	return bson.M{"$ne": string(blog.StatusDraft)}
}

// feedOrder is the feed's sort: newest first, ties broken by _id. The
// index createdAt_-1__id_-1 has exactly these keys.
var feedOrder = bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}

// CreatePost implements blog.PostStore. It reads the author, then inserts:
// two operations, and safe without a transaction because users are never
// deleted (only disabled), so an author that exists at the read still
// exists at the insert.
func (s *Store) CreatePost(ctx context.Context, np blog.NewPost) (blog.Post, error) {
	if err := np.Validate(); err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	if !blog.ValidID(np.AuthorID) {
		return blog.Post{}, blog.ErrAuthorNotFound
	}
	author, err := s.findUser(ctx, bson.M{"_id": np.AuthorID}, false)
	if blog.ErrorCode(err) == blog.ENOTFOUND {
		return blog.Post{}, blog.ErrAuthorNotFound
	}
	if err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", err)
	}
	p := np.Post(blog.NewID(), blog.Author{ID: author.ID}, blog.Now())
	d := postDoc{
		ID:          p.ID,
		Author:      author.ID,
		Title:       p.Title,
		Content:     p.Content,
		ContentHTML: p.ContentHTML,
		CreatedAt:   micros(p.CreatedAt),
		UpdatedAt:   micros(p.UpdatedAt),
		Status:      string(p.Status),
		PublishedAt: microsOrNil(p.PublishedAt),
	}
	if _, err := s.posts.InsertOne(ctx, d); err != nil {
		return blog.Post{}, fmt.Errorf("create post: %w", unavailable(err))
	}
	return d.post(author.Username), nil
}

// PostByID implements blog.PostStore.
func (s *Store) PostByID(ctx context.Context, id string) (blog.Post, error) {
	p, err := s.postByID(ctx, id)
	if err != nil {
		return blog.Post{}, fmt.Errorf("post by id: %w", err)
	}
	return p, nil
}

func (s *Store) postByID(ctx context.Context, id string) (blog.Post, error) {
	if !blog.ValidID(id) {
		return blog.Post{}, blog.ErrPostNotFound
	}
	var d postDoc
	err := s.posts.FindOne(ctx, bson.M{"_id": id}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return blog.Post{}, blog.ErrPostNotFound
	}
	if err != nil {
		return blog.Post{}, unavailable(err)
	}
	posts, err := s.withAuthors(ctx, []postDoc{d})
	if err != nil {
		return blog.Post{}, err
	}
	return posts[0], nil
}

// ListPosts implements blog.PostStore with keyset pagination on
// (createdAt, _id), newest first. Authors are joined in with one more
// query for the whole page (what mongoose's populate does), not one per
// post: FerretDB 1.24 has no $lookup stage.
func (s *Store) ListPosts(ctx context.Context, page blog.Page) ([]blog.Post, *blog.Cursor, error) {
	limit := page.Size()
	if page.AuthorID != "" && !blog.ValidID(page.AuthorID) {
		return []blog.Post{}, nil, nil
	}
	filter := bson.M{"status": statusFilter(page.ListStatus())}
	if page.AuthorID != "" {
		filter["author"] = page.AuthorID
	}
	if c := page.After; c != nil {
		// Strictly after the cursor in feed order: (createdAt, _id) <
		// (t, id). The cursor's time has microseconds, like createdAt.
		t := micros(c.CreatedAt)
		filter["$or"] = bson.A{
			bson.M{"createdAt": bson.M{"$lt": t}},
			bson.M{"createdAt": t, "_id": bson.M{"$lt": c.ID}},
		}
	}
	// One more document than asked tells whether a next page exists
	// without a count.
	cur, err := s.posts.Find(ctx, filter, options.Find().SetSort(feedOrder).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", unavailable(err))
	}
	var docs []postDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", unavailable(err))
	}
	var next *blog.Cursor
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[limit-1]
		next = &blog.Cursor{CreatedAt: fromMicros(last.CreatedAt), ID: last.ID}
	}
	posts, err := s.withAuthors(ctx, docs)
	if err != nil {
		return nil, nil, fmt.Errorf("list posts: %w", err)
	}
	return posts, next, nil
}

// withAuthors turns documents into posts, fetching every author's
// username in one query: find({_id: {$in: ids}}).
func (s *Store) withAuthors(ctx context.Context, docs []postDoc) ([]blog.Post, error) {
	if len(docs) == 0 {
		return []blog.Post{}, nil
	}
	seen := make(map[string]bool, len(docs))
	ids := bson.A{}
	for _, d := range docs {
		if !seen[d.Author] {
			seen[d.Author] = true
			ids = append(ids, d.Author)
		}
	}
	cur, err := s.users.Find(ctx, bson.M{"_id": bson.M{"$in": ids}},
		options.Find().SetProjection(bson.M{"username": 1}))
	if err != nil {
		return nil, unavailable(err)
	}
	var authors []struct {
		ID       string `bson:"_id"`
		Username string `bson:"username"`
	}
	if err := cur.All(ctx, &authors); err != nil {
		return nil, unavailable(err)
	}
	names := make(map[string]string, len(authors))
	for _, a := range authors {
		names[a.ID] = a.Username
	}
	posts := make([]blog.Post, len(docs))
	for i, d := range docs {
		name, ok := names[d.Author]
		if !ok {
			// Users are never deleted, so this is a broken reference.
			return nil, fmt.Errorf("post %s: author %s does not exist", d.ID, d.Author)
		}
		posts[i] = d.post(name)
	}
	return posts, nil
}

// UpdatePost implements blog.PostStore.
//
// It reads the post, checks that actor may edit it, then updates it with
// findOneAndUpdate filtered on {_id, author: the author the check saw}.
// The update is one atomic single-document operation, and it applies only
// if the post still exists and still belongs to the author the permission
// was granted for, so no transaction is needed: a post deleted between
// the check and the write gives ENOTFOUND, and a post could never be
// written on the strength of a check made against another owner. (No
// operation changes a post's author today; the filter keeps that
// assumption from becoming a hole.) The actor's role and disabled flag come
// from the caller, as in the SQL stores. Only the fields that change are
// $set, so concurrent edits of different fields do not undo each other,
// and the post returned is the document as stored after this update.
func (s *Store) UpdatePost(ctx context.Context, actor blog.User, id string, u blog.PostUpdate) (blog.Post, error) {
	if err := u.Validate(); err != nil {
		return blog.Post{}, fmt.Errorf("update post: %w", err)
	}
	p, err := s.editablePost(ctx, actor, id)
	if err != nil {
		return blog.Post{}, fmt.Errorf("update post: %w", err)
	}
	// Apply says what the update changes; only those fields are $set.
	p.Apply(u, blog.Now())
	set := bson.M{"updatedAt": micros(p.UpdatedAt)}
	if u.Title != nil {
		set["title"] = p.Title
	}
	if u.Content != nil {
		set["content"], set["contentHtml"] = p.Content, p.ContentHTML
	}
	update := bson.M{"$set": set}
	if u.Status != nil {
		set["status"] = string(p.Status)
		if !p.PublishedAt.IsZero() {
			// Apply keeps a PublishedAt once set, so this is the time the
			// post already had, or its first. $min, not $set: of two
			// publishes racing between read and write, the earlier time
			// stays, and a stored time is never moved later.
			update["$min"] = bson.M{"publishedAt": micros(p.PublishedAt.Time)}
		}
	}
	var d postDoc
	err = s.posts.FindOneAndUpdate(ctx,
		bson.M{"_id": p.ID, "author": p.Author.ID},
		update,
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return blog.Post{}, fmt.Errorf("update post: %w", blog.ErrPostNotFound)
	}
	if err != nil {
		return blog.Post{}, fmt.Errorf("update post: %w", unavailable(err))
	}
	return d.post(p.Author.Username), nil
}

// DeletePost implements blog.PostStore: check, then deleteOne filtered on
// {_id, author}, for the reasons given at UpdatePost.
func (s *Store) DeletePost(ctx context.Context, actor blog.User, id string) error {
	p, err := s.editablePost(ctx, actor, id)
	if err != nil {
		return fmt.Errorf("delete post: %w", err)
	}
	res, err := s.posts.DeleteOne(ctx, bson.M{"_id": p.ID, "author": p.Author.ID})
	if err != nil {
		return fmt.Errorf("delete post: %w", unavailable(err))
	}
	if res.DeletedCount == 0 {
		// Deleted by someone else since the check.
		return fmt.Errorf("delete post: %w", blog.ErrPostNotFound)
	}
	return nil
}

// editablePost loads the post and checks that actor may change it.
func (s *Store) editablePost(ctx context.Context, actor blog.User, id string) (blog.Post, error) {
	p, err := s.postByID(ctx, id)
	if err != nil {
		return blog.Post{}, err
	}
	if err := blog.CheckCanEdit(actor, p); err != nil {
		return blog.Post{}, err
	}
	return p, nil
}
