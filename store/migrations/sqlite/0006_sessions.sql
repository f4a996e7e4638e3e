-- Sessions of the staff pages (the desk, the console), kept on the server so that signing
-- out, a new password, a disabled account or a rotated operator token ends them at once.
-- An account's session names its username; an operator's (LAPOR_DESK_TOKENS) names the
-- operator and carries a SHA-256 of the token it began with, so a rotated token ends it.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    source       TEXT NOT NULL,  -- 'account' or 'operator'
    fingerprint  TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX sessions_user ON sessions (source, username) WHERE revoked_at IS NULL;

-- Account sessions lived among the API tokens until now; they move here.
INSERT INTO sessions (token_hash, username, source, created_at, expires_at, revoked_at)
    SELECT token_hash, username, 'account', created_at, expires_at, revoked_at
    FROM staff_tokens WHERE kind = 'session';
DELETE FROM staff_tokens WHERE kind = 'session';

-- A sign-in is throttled per (account, address) and per address: the address is read too.
CREATE INDEX login_failures_address ON login_failures (address, at);
