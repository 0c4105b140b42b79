-- Drafts: a post's status and when it was first published. Existing
-- posts were all public, so they are published, as of their creation.
ALTER TABLE posts ADD COLUMN status TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('draft', 'published'));
ALTER TABLE posts ADD COLUMN published_at INTEGER;
UPDATE posts SET published_at = created_at;

-- Every public listing reads published posts only. A partial index holds
-- just those, in feed order, so the home page walks it as it walked
-- posts_feed, never stepping over drafts. (SQLite uses a partial index
-- only when the query spells out status = 'published' literally; the
-- store's queries do.)
DROP INDEX posts_feed;
CREATE INDEX posts_published ON posts (created_at DESC, id DESC) WHERE status = 'published';

-- An author's page and their drafts: one author, one status, feed order.
-- It also serves what posts_author served (posts by author_id).
DROP INDEX posts_author;
CREATE INDEX posts_author ON posts (author_id, status, created_at DESC, id DESC);
