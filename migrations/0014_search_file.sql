-- The search index moves to a file of its own beside the database
-- (`<database>-search`, see Sources/mdb/SearchFile.swift): FTS5's segment
-- merges held the bus's write lock for tens of milliseconds, and every
-- executor's output waited behind them. mweb rebuilds the index there from
-- `events` when it next starts.
DROP TABLE IF EXISTS search_text;
DROP TABLE IF EXISTS search_cursor;
-- What the index file checks it indexes this database and not another one
-- copied in its place (a copy made by `mcli backup` keeps it: same history).
CREATE TABLE database_id (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  TEXT NOT NULL
);
INSERT INTO database_id (id, value) VALUES (1, lower(hex(randomblob(16))));
