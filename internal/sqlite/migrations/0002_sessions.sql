-- Website sessions. The key is a hash of the session token (the cookie's
-- value is never stored), so a copy of the database gives no live session.
CREATE TABLE sessions (
    key    TEXT    PRIMARY KEY,
    data   BLOB    NOT NULL,
    expiry INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_expiry ON sessions (expiry);
