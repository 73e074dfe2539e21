-- The editor's autosave slots: what a person typed and has not saved yet, one slot per person
-- per item (item_id 0: an item not created yet), replaced on each autosave. Never read by the
-- site, never a revision: saving for real, or discarding, deletes the slot.
CREATE TABLE autosaves (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    item_id BIGINT NOT NULL,
    -- The version the form was opened at (NULL for a new item): a restored form carries it,
    -- so the usual conflict check applies when it is saved.
    base_version BIGINT,
    -- The editor's form fields, as JSON text.
    fields TEXT NOT NULL,
    saved_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, item_id)
);
CREATE INDEX autosaves_saved_at ON autosaves (saved_at);
