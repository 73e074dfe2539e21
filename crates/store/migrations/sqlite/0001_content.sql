-- Content, its people and labels, revisions and the event log.
-- Times are UTC, stored as INTEGER microseconds since the Unix epoch.

CREATE TABLE authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('story', 'brief')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'scheduled', 'published', 'unpublished')),
    language TEXT NOT NULL,
    translation_group TEXT,
    section TEXT NOT NULL,
    slug TEXT NOT NULL,
    headline TEXT,
    standfirst TEXT,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    hero_path TEXT,
    hero_caption TEXT NOT NULL DEFAULT '',
    hero_credit TEXT NOT NULL DEFAULT '',
    hero_alt TEXT NOT NULL DEFAULT '',
    hero_width INTEGER,
    hero_height INTEGER,
    breaking BOOLEAN NOT NULL DEFAULT FALSE,
    first_published_at INTEGER,
    published_at INTEGER,
    updated_at INTEGER,
    created_at INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (language, slug)
);

CREATE INDEX items_stream ON items (language, status, published_at DESC);
CREATE INDEX items_section ON items (language, section, status, published_at DESC);
CREATE INDEX items_translation ON items (translation_group);

CREATE TABLE item_tags (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (item_id, tag_id)
);
CREATE INDEX item_tags_tag ON item_tags (tag_id);

CREATE TABLE item_authors (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (item_id, author_id)
);
CREATE INDEX item_authors_author ON item_authors (author_id);

CREATE TABLE item_sources (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    url TEXT,
    PRIMARY KEY (item_id, position)
);

-- Every save keeps a revision: who, when, and the whole item as it was saved (JSON).
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    UNIQUE (item_id, version)
);

-- The event log. AUTOINCREMENT: ids only grow, even after the newest row is deleted,
-- so a consumer's cursor never skips an event.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    item_id INTEGER,
    keys TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
