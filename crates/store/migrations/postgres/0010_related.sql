-- Editors' choices of related stories: a pinned item leads the related list in `position`
-- order, an excluded one never appears there, whatever the search index suggests.
CREATE TABLE related_choices (
    item_id BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    related_id BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    choice TEXT NOT NULL CHECK (choice IN ('pin', 'exclude')),
    position BIGINT NOT NULL,
    PRIMARY KEY (item_id, related_id)
);
