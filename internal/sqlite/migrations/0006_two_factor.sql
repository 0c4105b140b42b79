-- Two-factor sign-in. The TOTP secret is kept sealed by the application
-- (the database never sees it in the clear); '' means none. A secret with
-- totp_enabled = 0 is an enrolment waiting for its first valid code.
-- totp_last_step is the last TOTP time step accepted, so a code can't be
-- used twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1));
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- The hashes of an account's unused recovery codes; using one deletes
-- its row, so each works once.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT;
