-- What the output path needs to know about a run's stored output, kept in
-- columns and moved in the same transaction as each output batch: the bytes
-- stored per stream (as the agent wrote them, before any text/b64 encoding)
-- and whether the run's output cap was reached (its notice is stored, and
-- further output is discarded). Whoever reads an agent's pipe on after a
-- restart skips what these say is stored: a subtraction, not a scan of the
-- run's events. Not breaking: a previous executor does not read them.
ALTER TABLE runs ADD COLUMN stdout_bytes INTEGER NOT NULL DEFAULT 0 CHECK (stdout_bytes >= 0);
ALTER TABLE runs ADD COLUMN stderr_bytes INTEGER NOT NULL DEFAULT 0 CHECK (stderr_bytes >= 0);
ALTER TABLE runs ADD COLUMN pty_bytes INTEGER NOT NULL DEFAULT 0 CHECK (pty_bytes >= 0);
ALTER TABLE runs ADD COLUMN output_capped INTEGER NOT NULL DEFAULT 0 CHECK (output_capped IN (0, 1));
-- Runs still going carry on from what their events hold (a text counts its
-- UTF-8 bytes, a b64 the bytes it decodes to); finished runs keep 0.
WITH stored (run_id, stream, bytes) AS (
    SELECT run_id, json_extract(data, '$.stream'),
           sum(CASE WHEN json_type(data, '$.text') IS NOT NULL
                    THEN length(CAST(json_extract(data, '$.text') AS BLOB))
                    ELSE length(json_extract(data, '$.b64')) / 4 * 3
                         - (CASE WHEN json_extract(data, '$.b64') LIKE '%==' THEN 2
                                 WHEN json_extract(data, '$.b64') LIKE '%=' THEN 1 ELSE 0 END)
               END)
    FROM events
    WHERE type = 'output' AND run_id IN (SELECT id FROM runs WHERE status IN ('queued', 'running', 'waiting_approval'))
    GROUP BY 1, 2
)
UPDATE runs SET
    stdout_bytes = coalesce((SELECT bytes FROM stored WHERE stored.run_id = runs.id AND stream = 'stdout'), 0),
    stderr_bytes = coalesce((SELECT bytes FROM stored WHERE stored.run_id = runs.id AND stream = 'stderr'), 0),
    pty_bytes = coalesce((SELECT bytes FROM stored WHERE stored.run_id = runs.id AND stream = 'pty'), 0),
    output_capped = EXISTS (SELECT 1 FROM events WHERE run_id = runs.id AND type = 'notice'
                                AND json_extract(data, '$.text') LIKE 'output cap of %')
WHERE status IN ('queued', 'running', 'waiting_approval');
