-- Push delivery (docs/PUSH.md). A notifier chooses its event types and,
-- optionally, its runs; its health lives in columns (`mcli notify list` shows
-- them). `after_event_id` is its cursor: every event up to it is already in
-- the outbox or was committed before the notifier was added. An outbox row
-- is claimed by setting `claimed_at`, so a sender killed mid-delivery leaves
-- a row that is simply due again.
ALTER TABLE notifiers ADD COLUMN events TEXT NOT NULL DEFAULT '["approval.requested","run.finished"]' CHECK (json_valid(events));
ALTER TABLE notifiers ADD COLUMN run_ids TEXT CHECK (run_ids IS NULL OR json_valid(run_ids));
ALTER TABLE notifiers ADD COLUMN state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'failing'));
ALTER TABLE notifiers ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifiers ADD COLUMN last_error TEXT;
ALTER TABLE notifiers ADD COLUMN last_sent_at TEXT;
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
CREATE INDEX outbox_by_notifier ON outbox (notifier_id, status);
