-- Output reaches the database in numbered batches, written either by the
-- host's shared writer (the mexec daemon) or by the run's executor itself when
-- no writer answers. The number of the last batch stored moves in the same
-- transaction as its events, so a batch whose acknowledgement was lost (a
-- writer killed mid-commit) can be sent again without being stored twice.
ALTER TABLE runs ADD COLUMN output_batch INTEGER NOT NULL DEFAULT 0;
