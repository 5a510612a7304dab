-- A pairing link (from `mcli up` or `mcli pair`) carries a fresh token that
-- must be used within a short window: `use_by`. A token never used by then is
-- refused, and deleted the next time a pairing token is made, so links left in
-- a terminal's scrollback or a log stop working and do not pile up.
ALTER TABLE tokens ADD COLUMN use_by TEXT;
