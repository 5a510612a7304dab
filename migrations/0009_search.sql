-- Full-text search over every run's output (docs/API.md, GET /api/v1/search).
-- One row per output event, rowid = events.id, holding the event's readable
-- text (ANSI escapes and control characters stripped, b64 decoded). mweb's
-- search indexer fills it from `events` in small batches of its own, never
-- inside the output path's transaction; `search_cursor.after_event_id` is how
-- far it got, so a restart resumes where it stopped. `mcli gc` deletes a
-- run's rows with its events.
CREATE VIRTUAL TABLE search_text USING fts5 (
    text,
    run_id UNINDEXED,
    seq UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_cursor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    after_event_id  INTEGER NOT NULL DEFAULT 0 CHECK (after_event_id >= 0),
    updated_at      TEXT
);
INSERT INTO search_cursor (id, after_event_id) VALUES (1, 0);
