-- The full current schema of m.db: what `sqlite3 m.db .schema` shows after every
-- migration in migrations/ (a test keeps the two identical). Read-only reference:
-- M creates and upgrades databases from migrations/, never from this file.
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE workers (
    id              TEXT PRIMARY KEY,                 -- 'host:pid:random'
    hostname        TEXT NOT NULL,
    pid             INTEGER NOT NULL,
    concurrency     INTEGER NOT NULL DEFAULT 1,
    started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    heartbeat_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    stopped_at      TEXT,
    status          TEXT NOT NULL DEFAULT ''          -- free text, like systemd's STATUS=
);
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    title               TEXT NOT NULL DEFAULT '',
    agent               TEXT NOT NULL DEFAULT 'command'
                        CHECK (agent IN ('command', 'claude', 'acp', 'openai')),
    spec                TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec)),
    repo_url            TEXT,
    repo_ref            TEXT,
    base_commit         TEXT,
    workspace           TEXT,
    sandbox_mode        TEXT NOT NULL DEFAULT 'host_self'
                        CHECK (sandbox_mode IN ('host_self', 'vm_self')),
    status              TEXT NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'running', 'waiting_approval',
                                          'succeeded', 'failed', 'canceled', 'lost')),
    exit_code           INTEGER,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at          TEXT,
    finished_at         TEXT,
    worker_id           TEXT,
    lease_expires_at    TEXT,
    cancel_requested_at TEXT,
    last_seq            INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
, executor_pid INTEGER, executor_start_ticks INTEGER, agent_pid INTEGER, agent_pgid INTEGER, agent_start_ticks INTEGER, output_batch INTEGER NOT NULL DEFAULT 0, confinement TEXT CHECK (confinement IN ('bwrap', 'none')), stdout_bytes INTEGER NOT NULL DEFAULT 0 CHECK (stdout_bytes >= 0), stderr_bytes INTEGER NOT NULL DEFAULT 0 CHECK (stderr_bytes >= 0), pty_bytes INTEGER NOT NULL DEFAULT 0 CHECK (pty_bytes >= 0), output_capped INTEGER NOT NULL DEFAULT 0 CHECK (output_capped IN (0, 1)));
CREATE INDEX runs_by_status ON runs (status, id);
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,       -- global, in commit order, never reused
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL CHECK (seq >= 1),       -- per run: 1, 2, 3 ... without gaps
    ts      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    type    TEXT NOT NULL,
    data    TEXT NOT NULL DEFAULT '{}',
    UNIQUE (run_id, seq)
);
CREATE TABLE inputs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    text          TEXT NOT NULL DEFAULT '',
    newline       INTEGER NOT NULL DEFAULT 1 CHECK (newline IN (0, 1)),
    eof           INTEGER NOT NULL DEFAULT 0 CHECK (eof IN (0, 1)),
    source        TEXT NOT NULL DEFAULT 'cli',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    delivered_at  TEXT
);
CREATE INDEX inputs_pending ON inputs (run_id, id) WHERE delivered_at IS NULL;
CREATE TABLE diffs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    base        TEXT,                                 -- the commit the diff is against
    message     TEXT NOT NULL DEFAULT '',
    patch       TEXT NOT NULL DEFAULT '',
    files       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(files)),
    additions   INTEGER NOT NULL DEFAULT 0,
    deletions   INTEGER NOT NULL DEFAULT 0,
    truncated   INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
    status      TEXT NOT NULL DEFAULT 'proposed'
                CHECK (status IN ('proposed', 'applied', 'rejected', 'superseded')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    applied_at  TEXT
);
CREATE INDEX diffs_by_run ON diffs (run_id, id);
CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL DEFAULT 'ask' CHECK (kind <> ''),
    title        TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    diff_id      INTEGER REFERENCES diffs (id),
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'canceled')),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at   TEXT,
    resolved_at  TEXT,
    resolved_by  TEXT,
    note         TEXT,
    always       INTEGER NOT NULL DEFAULT 0 CHECK (always IN (0, 1))
);
CREATE INDEX approvals_pending ON approvals (status, id);
CREATE INDEX approvals_by_run ON approvals (run_id, id);
CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE CHECK (name <> ''),
    scope         TEXT NOT NULL CHECK (scope IN ('read', 'steer', 'admin')),
    hash          TEXT NOT NULL UNIQUE,              -- hex SHA-256 of the secret; the secret is never stored
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at  TEXT,
    revoked_at    TEXT
, use_by TEXT);
CREATE TABLE notifiers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('webhook', 'ntfy', 'exec', 'webpush', 'apns')),
    config          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    after_event_id  INTEGER NOT NULL DEFAULT 0,     -- only events committed after it was added are sent
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    disabled_at     TEXT
, events TEXT NOT NULL DEFAULT '["approval.requested","run.finished"]' CHECK (json_valid(events)), run_ids TEXT CHECK (run_ids IS NULL OR json_valid(run_ids)), failures_only INTEGER NOT NULL DEFAULT 0 CHECK (failures_only IN (0, 1)), state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'failing')), consecutive_failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_sent_at TEXT);
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notifier_id      INTEGER NOT NULL REFERENCES notifiers (id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL,
    dedupe_key       TEXT NOT NULL UNIQUE,
    payload          TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_error       TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at          TEXT
, claimed_at TEXT);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id      INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    hash          TEXT NOT NULL UNIQUE,              -- hex SHA-256 of the cookie value
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX sessions_by_token ON sessions (token_id);
CREATE TABLE diff_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    requested_by  TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    handled_at    TEXT,
    diff_id       INTEGER REFERENCES diffs (id)
);
CREATE INDEX diff_requests_pending ON diff_requests (run_id, id) WHERE handled_at IS NULL;
CREATE INDEX outbox_by_notifier ON outbox (notifier_id, status);
CREATE TABLE action_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    approval_id  INTEGER NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    notifier_id  INTEGER NOT NULL REFERENCES notifiers (id) ON DELETE CASCADE,
    hash         TEXT NOT NULL UNIQUE,               -- hex SHA-256 of the secret
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (approval_id, notifier_id)
);
CREATE TABLE push_keys (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    vapid_private  TEXT NOT NULL,                    -- base64url P-256 private scalar (32 bytes)
    vapid_public   TEXT NOT NULL,                    -- base64url uncompressed point (65 bytes)
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE push_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('webpush', 'apns')),
    endpoint      TEXT NOT NULL CHECK (endpoint <> ''),  -- the Web Push endpoint URL, or the APNs device token (hex)
    p256dh        TEXT,                              -- Web Push: the browser's base64url public key
    auth          TEXT,                              -- Web Push: the browser's base64url auth secret
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_sent_at  TEXT,
    UNIQUE (kind, endpoint)
);
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
-- Which database this is: the search index's file beside it (`<db>-search`,
-- holding `search_text` and `search_cursor`, see docs/DATABASE.md) checks it
-- indexes this one and not another copied in its place.
CREATE TABLE database_id (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  TEXT NOT NULL
);
