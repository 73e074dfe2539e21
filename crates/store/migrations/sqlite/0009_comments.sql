-- Readers (the public's accounts), their sessions and mailed tokens, and their comments with
-- likes and reports; per-story commenting rules. Readers are apart from staff accounts so
-- that nothing a reader can do reaches the desk.

CREATE TABLE readers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    verified BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'banned')),
    created_at INTEGER NOT NULL
);

-- Found by the SHA-256 of the cookie's token, like staff sessions.
CREATE TABLE reader_sessions (
    token_hash TEXT PRIMARY KEY,
    reader_id INTEGER NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX reader_sessions_reader ON reader_sessions (reader_id);

-- One-time tokens sent by mail: address verification and password reset.
CREATE TABLE reader_tokens (
    token_hash TEXT PRIMARY KEY,
    reader_id INTEGER NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    expires_at INTEGER NOT NULL
);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    -- The comment replied to, and the top of its thread (itself for a top-level comment).
    parent_id INTEGER REFERENCES comments (id),
    root_id INTEGER,
    -- NULL once the reader's account is deleted and their comments anonymised.
    reader_id INTEGER REFERENCES readers (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('published', 'held', 'rejected', 'deleted')),
    -- Why the system held it (encoded reasons), and the reason a moderator gave the reader.
    hold_reasons TEXT NOT NULL DEFAULT '',
    reject_reason TEXT NOT NULL DEFAULT '',
    featured BOOLEAN NOT NULL DEFAULT FALSE,
    likes INTEGER NOT NULL DEFAULT 0,
    reports INTEGER NOT NULL DEFAULT 0,
    -- A hash of the address it came from, for rate limits; never shown.
    address_hash TEXT NOT NULL DEFAULT '',
    -- The form's one-time key: a retried post is stored once.
    client_key TEXT,
    created_at INTEGER NOT NULL,
    edited_at INTEGER
);
CREATE INDEX comments_item ON comments (item_id, parent_id, status, id);
CREATE INDEX comments_root ON comments (root_id, id);
CREATE INDEX comments_reader ON comments (reader_id, id);
CREATE INDEX comments_queue ON comments (status, id);
CREATE INDEX comments_address ON comments (address_hash, created_at);
CREATE UNIQUE INDEX comments_client_key ON comments (reader_id, client_key);

CREATE TABLE comment_likes (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reader_id INTEGER NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    PRIMARY KEY (comment_id, reader_id)
);

CREATE TABLE comment_reports (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reader_id INTEGER NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (comment_id, reader_id)
);

-- A story's own rules; no row means the site's.
CREATE TABLE story_commenting (
    item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    premoderated BOOLEAN NOT NULL DEFAULT FALSE
);
