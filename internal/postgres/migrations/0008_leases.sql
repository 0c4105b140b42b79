-- Leases: named locks that instances sharing the database take in turn
-- (a scheduled backup), each held until it is given up or "until" has
-- passed by the database's clock.
CREATE TABLE leases (
    name   text        PRIMARY KEY,
    holder text        NOT NULL,
    until  timestamptz NOT NULL
);
