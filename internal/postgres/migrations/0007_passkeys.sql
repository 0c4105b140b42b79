-- Passkeys: WebAuthn credentials, at most 20 an account (checked by the
-- application while it holds the account's row lock). The id is the
-- credential ID the authenticator chose, so one authenticator's
-- credential belongs to one account only. Nothing here is secret: the
-- public key only verifies.
-- transports is NULL when the authenticator gave none (kept apart from an
-- empty list); last_used_at is NULL until the first sign-in. seq orders
-- passkeys added in the same microsecond.
CREATE TABLE passkeys (
    id               text        NOT NULL PRIMARY KEY,
    seq              bigint      GENERATED ALWAYS AS IDENTITY,
    user_id          text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    public_key       bytea       NOT NULL,
    attestation_type text        NOT NULL,
    aaguid           bytea,
    transports       text[],
    sign_count       bigint      NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    backup_eligible  boolean     NOT NULL,
    backup_state     boolean     NOT NULL,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz
);

-- An account's passkeys: listed, counted on every user read, and counted
-- before each is added.
CREATE INDEX passkeys_user ON passkeys (user_id, created_at, seq);
