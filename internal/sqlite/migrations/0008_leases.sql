-- Leases: named locks that instances sharing the database take in turn
-- (a scheduled backup), each held until it is given up or "until" (Unix
-- microseconds) has passed.
CREATE TABLE leases (
    name   TEXT    PRIMARY KEY,
    holder TEXT    NOT NULL,
    until  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
