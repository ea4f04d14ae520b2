-- Accounts and their sessions. IDs are UUIDs stored as 16-byte blobs; timestamps are RFC 3339
-- text in UTC, which sorts chronologically.
CREATE TABLE users (
    id               BLOB PRIMARY KEY NOT NULL,
    email            TEXT NOT NULL,
    -- The lookup form; unique so that two sign-ups racing on one address make one account.
    email_normalized TEXT NOT NULL UNIQUE,
    name             TEXT,
    password_hash    TEXT,
    email_verified   INTEGER NOT NULL CHECK (email_verified IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    last_login_at    TEXT
);

CREATE TABLE sessions (
    id                  BLOB PRIMARY KEY NOT NULL,
    user_id             BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash          BLOB NOT NULL UNIQUE,
    auth_method         TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    idle_expires_at     TEXT NOT NULL,
    absolute_expires_at TEXT NOT NULL,
    ip_address          TEXT,
    user_agent          TEXT
);

CREATE INDEX sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
CREATE INDEX sessions_absolute_expires_at ON sessions (absolute_expires_at);
