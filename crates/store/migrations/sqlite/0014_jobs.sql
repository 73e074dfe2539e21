-- Periodic jobs that run once across instances (housekeeping). Every instance tries to move
-- `next_run` forward with a conditional UPDATE (`… WHERE next_run <= now`); the one whose
-- UPDATE changes the row runs the job, like the scheduler's claims.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    next_run INTEGER NOT NULL,
    last_run_at INTEGER
);
INSERT INTO jobs (name, next_run) VALUES ('housekeeping', 0);
