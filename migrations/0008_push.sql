-- Push delivery (docs/PUSH.md). A notifier chooses its event types and,
-- optionally, its runs and only the runs that did not succeed; its health lives in columns (`mcli notify list` shows
-- them). `after_event_id` is its cursor: every event up to it is already in
-- the outbox or was committed before the notifier was added. An outbox row
-- is claimed by setting `claimed_at`, so a sender killed mid-delivery leaves
-- a row that is simply due again.
ALTER TABLE notifiers ADD COLUMN events TEXT NOT NULL DEFAULT '["approval.requested","run.finished"]' CHECK (json_valid(events));
ALTER TABLE notifiers ADD COLUMN run_ids TEXT CHECK (run_ids IS NULL OR json_valid(run_ids));
ALTER TABLE notifiers ADD COLUMN failures_only INTEGER NOT NULL DEFAULT 0 CHECK (failures_only IN (0, 1));
ALTER TABLE notifiers ADD COLUMN state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'failing'));
ALTER TABLE notifiers ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifiers ADD COLUMN last_error TEXT;
ALTER TABLE notifiers ADD COLUMN last_sent_at TEXT;
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
CREATE INDEX outbox_by_notifier ON outbox (notifier_id, status);
-- The single-use tokens behind an ntfy notification's Approve / Reject
-- buttons: each decides one approval, once, before it expires. Only the
-- hash is stored; a retry of the notification replaces its token.
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
