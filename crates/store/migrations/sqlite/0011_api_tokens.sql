-- Tokens for the API that are not a reader's sign-in: staff tokens, which act as their account
-- within a role no wider than the account's, and read keys, which only identify a partner (for
-- its own rate limit, or where reading requires a key). Found by the SHA-256 of the token, so a
-- copy of the database holds no usable token. Revoked tokens stay listed for the record.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'read')),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- Staff: the account the token acts as. Read keys: the admin who made it.
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    -- Staff tokens only: the role the token may act in.
    role TEXT CHECK (role IS NULL OR role IN ('contributor', 'editor', 'moderator', 'admin')),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);
