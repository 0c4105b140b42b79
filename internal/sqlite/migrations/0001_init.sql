-- Users, posts and revoked tokens. Times are Unix microseconds (UTC).
-- STRICT tables make SQLite refuse a value of the wrong type instead of
-- storing it anyway.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL UNIQUE,   -- lower(username): names are unique case-insensitively
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE posts (
    id           TEXT    PRIMARY KEY,
    author_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    content_html TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- The feed is read newest first with a keyset cursor on (created_at, id).
CREATE INDEX posts_feed ON posts (created_at DESC, id DESC);
CREATE INDEX posts_author ON posts (author_id);

CREATE TABLE revoked_tokens (
    token_id   TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
