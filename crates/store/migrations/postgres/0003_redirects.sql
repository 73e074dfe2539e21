-- Addresses an item had before its slug or language changed: old links keep working (301).
CREATE TABLE item_redirects (
    language TEXT NOT NULL,
    slug TEXT NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    PRIMARY KEY (language, slug)
);
CREATE INDEX item_redirects_item ON item_redirects (item_id);
