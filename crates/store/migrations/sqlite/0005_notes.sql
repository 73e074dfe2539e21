-- Public corrections and update notes shown at the end of a story, with their time.
CREATE TABLE item_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('correction', 'update')),
    body TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX item_notes_item ON item_notes (item_id, id);
