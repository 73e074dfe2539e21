-- Webhooks (issue 8): endpoints admins register, one delivery per endpoint and event with
-- every attempt to send it, and the cursor that turns the event log into deliveries. A
-- published comment's event now names the comment.

ALTER TABLE events ADD COLUMN comment_id INTEGER;

-- How far a consumer of the event log that must survive restarts has read (`webhooks`).
CREATE TABLE event_cursors (
    consumer TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Space-separated names (`item.published comment.published`).
    events TEXT NOT NULL,
    -- Signs every delivery; shown to admins, who give it to the receiver.
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- The last event when it was registered: it is told only of later ones.
    after_event_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    -- The exact bytes every attempt and every replay sends.
    payload TEXT NOT NULL,
    -- The delivery this one sends again, on an admin's request.
    replay_of INTEGER REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Attempts started; a claim counts one and holds the lease until `lease_until`.
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    first_attempt_at INTEGER,
    created_at INTEGER NOT NULL
);
-- An event is delivered to an endpoint once; replays are extra rows.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, event_id)
    WHERE replay_of IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    -- NULL when no answer came (refused connection, timeout).
    status_code INTEGER,
    -- The first 2 KiB of the answer's body, and what went wrong if anything did.
    response_excerpt TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    UNIQUE (delivery_id, attempt)
);
