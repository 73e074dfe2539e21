-- Sections live in the database from here on, so editors can add, rename and order them in
-- the desk and every instance sees the same list. The configuration file's sections seed an
-- empty table once, at start.
CREATE TABLE sections (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- The name in the site's other languages: a JSON object from language tag to name.
    names TEXT NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL
);
