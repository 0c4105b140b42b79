-- Two-factor sign-in. The TOTP secret is kept sealed by the application
-- (the database never sees it in the clear); '' means none. A secret with
-- totp_enabled false is an enrolment waiting for its first valid code.
-- totp_last_step is the last TOTP time step accepted, so a code can't be
-- used twice.
ALTER TABLE users
    ADD COLUMN totp_secret    text    NOT NULL DEFAULT '',
    ADD COLUMN totp_enabled   boolean NOT NULL DEFAULT false,
    ADD COLUMN totp_last_step bigint  NOT NULL DEFAULT 0;

-- The hashes of an account's unused recovery codes; using one deletes
-- its row, so each works once.
CREATE TABLE recovery_codes (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    text NOT NULL,
    PRIMARY KEY (user_id, hash)
);
