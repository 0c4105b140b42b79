-- Passkeys: WebAuthn credentials, at most 20 an account (checked by the
-- application inside the write transaction that adds one). The id is the
-- credential ID the authenticator chose, so one authenticator's
-- credential belongs to one account only. Nothing here is secret: the
-- public key only verifies.
-- transports is a JSON array, or NULL when the authenticator gave none
-- (kept apart from an empty list). last_used_at is NULL until the first
-- sign-in. Times are Unix microseconds, as elsewhere.
CREATE TABLE passkeys (
    id               TEXT    NOT NULL PRIMARY KEY,
    user_id          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    public_key       BLOB    NOT NULL,
    attestation_type TEXT    NOT NULL,
    aaguid           BLOB,
    transports       TEXT,
    sign_count       INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    backup_eligible  INTEGER NOT NULL CHECK (backup_eligible IN (0, 1)),
    backup_state     INTEGER NOT NULL CHECK (backup_state IN (0, 1)),
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER
) STRICT;

-- An account's passkeys: listed, counted on every user read, and counted
-- before each is added.
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);
