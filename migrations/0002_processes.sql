-- The processes behind a running run, so that a reaper can end an orphaned
-- agent after its executor died, and only that agent: a pid can be reused, so
-- each pid is stored with its start time (/proc/PID/stat field 22, clock ticks
-- since boot) and a group is signalled only while its leader still has it.
ALTER TABLE runs ADD COLUMN executor_pid INTEGER;
ALTER TABLE runs ADD COLUMN executor_start_ticks INTEGER;
ALTER TABLE runs ADD COLUMN agent_pid INTEGER;
ALTER TABLE runs ADD COLUMN agent_pgid INTEGER;
ALTER TABLE runs ADD COLUMN agent_start_ticks INTEGER;
