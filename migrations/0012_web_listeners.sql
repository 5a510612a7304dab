-- Where each mweb listens: a row per process, written when it starts serving
-- and marked stopped when it stops, so that `mcli doctor` can tell whether M
-- answers plain HTTP on a public address. A mweb killed without stopping
-- leaves its row; doctor recognises it by pid and start time (/proc).
CREATE TABLE web_listeners (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname     TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    start_ticks  INTEGER,                            -- /proc/PID/stat field 22: tells a reused pid apart
    host         TEXT NOT NULL,                      -- the bound address (--host)
    port         INTEGER NOT NULL,
    tls          INTEGER NOT NULL CHECK (tls IN (0, 1)),
    public_url   TEXT,                               -- --public-url, when behind a reverse proxy
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    stopped_at   TEXT
);
