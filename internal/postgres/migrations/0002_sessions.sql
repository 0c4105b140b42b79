-- Website sessions, keyed by a hash of the session token (the cookie's
-- value is never stored).
CREATE TABLE sessions (
    key    text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expiry);
