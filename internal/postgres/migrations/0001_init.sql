-- Users, posts and revoked tokens.

CREATE TABLE users (
    id            text        PRIMARY KEY,
    username      text        NOT NULL,
    username_key  text        NOT NULL UNIQUE,   -- lower(username): names are unique case-insensitively
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('user', 'admin')),
    disabled      boolean     NOT NULL DEFAULT false,
    token_version integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL
);

CREATE TABLE posts (
    id           text        PRIMARY KEY,
    author_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        text        NOT NULL,
    content      text        NOT NULL,
    content_html text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- The feed is read newest first with a keyset cursor on (created_at, id).
CREATE INDEX posts_feed ON posts (created_at DESC, id DESC);
CREATE INDEX posts_author ON posts (author_id);

CREATE TABLE revoked_tokens (
    token_id   text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
