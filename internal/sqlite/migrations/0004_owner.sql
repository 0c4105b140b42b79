-- A blog its owner runs: the "user" role becomes "author", and the
-- tables for invites and site settings.
--
-- SQLite can't change a CHECK constraint in place, so users is rebuilt
-- (SQLite's documented procedure: new table, copy, drop, rename). The
-- migrations run with foreign-key enforcement off (see migrate), so
-- dropping the old table does not cascade to posts, and posts' reference
-- to "users" names the new table once it is renamed.
CREATE TABLE users_new (
    id                TEXT    PRIMARY KEY,
    username          TEXT    NOT NULL,
    username_key      TEXT    NOT NULL UNIQUE,   -- lower(username): names are unique case-insensitively
    password_hash     TEXT    NOT NULL,
    role              TEXT    NOT NULL CHECK (role IN ('author', 'admin')),
    disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    token_version     INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    username_skeleton TEXT
) STRICT;

INSERT INTO users_new (id, username, username_key, password_hash, role, disabled, token_version, created_at, username_skeleton)
SELECT id, username, username_key, password_hash, CASE role WHEN 'user' THEN 'author' ELSE role END,
       disabled, token_version, created_at, username_skeleton
FROM users;

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);

-- Invites: only the SHA-256 of the link's token is kept. created_by and
-- used_by outlive a deleted account as NULL.
CREATE TABLE invites (
    id         TEXT    PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL CHECK (role IN ('author', 'admin')),
    created_by TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_by    TEXT    REFERENCES users (id) ON DELETE SET NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX invites_created ON invites (created_at DESC, id DESC);

-- Site settings: one row, absent until an admin sets them.
CREATE TABLE site_settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL
) STRICT;
