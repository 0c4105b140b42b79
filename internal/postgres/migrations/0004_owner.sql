-- A blog its owner runs: the "user" role becomes "author", and the
-- tables for invites and site settings.
ALTER TABLE users DROP CONSTRAINT users_role_check;
UPDATE users SET role = 'author' WHERE role = 'user';
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('author', 'admin'));

-- Invites: only the SHA-256 of the link's token is kept. created_by and
-- used_by outlive a deleted account as NULL.
CREATE TABLE invites (
    id         text        PRIMARY KEY,
    token_hash text        NOT NULL UNIQUE,
    role       text        NOT NULL CHECK (role IN ('author', 'admin')),
    created_by text        REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    text        REFERENCES users (id) ON DELETE SET NULL,
    revoked_at timestamptz
);

CREATE INDEX invites_created ON invites (created_at DESC, id DESC);

-- Site settings: one row, absent until an admin sets them.
CREATE TABLE site_settings (
    id          integer PRIMARY KEY CHECK (id = 1),
    title       text    NOT NULL,
    description text    NOT NULL
);
