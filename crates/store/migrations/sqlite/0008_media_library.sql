-- The media library: every uploaded image once, with the words that go with it, so editors
-- can find and reuse an image instead of uploading it again. Heroes already in use are
-- entered from the items that show them.
CREATE TABLE media_library (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    alt TEXT NOT NULL DEFAULT '',
    caption TEXT NOT NULL DEFAULT '',
    credit TEXT NOT NULL DEFAULT '',
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

INSERT INTO media_library (path, width, height, alt, caption, credit, uploaded_by, created_at)
SELECT hero_path, COALESCE(hero_width, 0), COALESCE(hero_height, 0), hero_alt, hero_caption,
       hero_credit, 'before the library', MIN(created_at)
FROM items WHERE hero_path IS NOT NULL
GROUP BY hero_path
ON CONFLICT (path) DO NOTHING;
