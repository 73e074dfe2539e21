-- Likes and reports (issue 14, items 5 and 6). A moderator's approval answers the reports a
-- comment had: they stay (one report per reader, so the same readers cannot hide it again)
-- but no longer count towards holding it. Likes and reports are limited per reader over a
-- sliding window, from a log of their recent actions.

ALTER TABLE comment_reports ADD COLUMN answered BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE reader_actions (
    reader_id INTEGER NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    -- 'like' or 'report'.
    action TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX reader_actions_recent ON reader_actions (reader_id, action, at);
