-- mweb: browser sessions and requests for a fresh diff (see docs/DATABASE.md).
-- Version 3: version 2 belongs to mexec's branch; the Migrator applies
-- whichever of them a database lacks, in order.

-- A browser exchanges a token for a session cookie (browsers cannot put an
-- Authorization header on a WebSocket). Like tokens, only a hash is stored.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id      INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    hash          TEXT NOT NULL UNIQUE,              -- hex SHA-256 of the cookie value
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX sessions_by_token ON sessions (token_id);

-- `POST /runs/{id}/diffs` asks the run's executor for a fresh diff of its
-- workspace; the executor answers with a `diffs` row and `diff.created`.
CREATE TABLE diff_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    requested_by  TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    handled_at    TEXT,
    diff_id       INTEGER REFERENCES diffs (id)
);
CREATE INDEX diff_requests_pending ON diff_requests (run_id, id) WHERE handled_at IS NULL;
