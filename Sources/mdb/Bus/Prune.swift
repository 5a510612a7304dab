import Foundation
import GRDB

/// A finished run that `mcli gc` may delete, with what deleting it frees in the database.
public struct PrunableRun: Sendable, Equatable {
    /// The run's id.
    public var id: Int64
    /// Its workspace directory, if it had one.
    public var workspace: String?
    /// How many events it stored.
    public var events: Int
}

extension MDatabase {
    /// Finished runs (succeeded, failed, canceled, lost) that finished before
    /// `cutoff`, oldest first, leaving out the `keepLast` newest finished runs
    /// whatever their age. Queued, running and waiting runs are never listed.
    public func prunableRuns(finishedBefore cutoff: String, keepLast: Int = 0) throws -> [PrunableRun] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, workspace, (SELECT count(*) FROM events WHERE events.run_id = runs.id) AS events
                FROM runs
                WHERE status IN ('succeeded', 'failed', 'canceled', 'lost') AND finished_at < ?
                  AND id NOT IN (SELECT id FROM runs WHERE status IN ('succeeded', 'failed', 'canceled', 'lost')
                                 ORDER BY id DESC LIMIT ?)
                ORDER BY id
                """, arguments: [cutoff, keepLast]).map { PrunableRun(id: $0["id"], workspace: $0["workspace"], events: $0["events"]) }
        }
    }

    /// Deletes up to `limit` of a finished run's events, oldest first, in one
    /// short transaction, then their search rows in the index's file; returns
    /// how many events it deleted (0: none are left). Small batches keep the
    /// write lock free for the executors and mweb between them.
    public func deleteEvents(ofFinishedRun runId: Int64, limit: Int) throws -> Int {
        let (deleted, ids) = try write { db -> (Int, ClosedRange<Int64>?) in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT events.id FROM events JOIN runs ON runs.id = events.run_id
                WHERE events.run_id = ? AND runs.status IN ('succeeded', 'failed', 'canceled', 'lost')
                ORDER BY events.seq LIMIT ?
                """, arguments: [runId, limit])
            guard let first = ids.first, let last = ids.last else { return (0, nil) }
            // The batch is a contiguous stretch of the run's seqs, so of its ids.
            try db.execute(sql: "DELETE FROM events WHERE run_id = ? AND id BETWEEN ? AND ?", arguments: [runId, first, last])
            return (db.changesCount, first...last)
        }
        if let ids { try deleteSearchRows(runId: runId, ids: ids) }
        return deleted
    }

    /// Deletes a finished run's row and what hangs off it (inputs, approvals,
    /// diffs, diff requests; its remaining events, then their search rows).
    /// Returns false, changing nothing, when the run is not finished or does not exist.
    public func deleteFinishedRun(_ runId: Int64) throws -> Bool {
        let deleted: ClosedRange<Int64>?? = try write { db in
            guard let status = try RunStatus.fetchOne(db, sql: "SELECT status FROM runs WHERE id = ?", arguments: [runId]),
                  status.isFinished else { return .none }
            let row = try Row.fetchOne(db, sql: "SELECT min(id) AS first, max(id) AS last FROM events WHERE run_id = ?", arguments: [runId])
            for table in ["events", "inputs", "diff_requests", "approvals", "diffs"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE run_id = ?", arguments: [runId])
            }
            try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [runId])
            guard let first: Int64 = row?["first"], let last: Int64 = row?["last"] else { return .some(nil) }
            return .some(first...last)
        }
        guard let ids = deleted else { return false }
        if let ids { try deleteSearchRows(runId: runId, ids: ids) }
        return true
    }

    /// Deletes the search rows of `runId`'s events within `ids` from the
    /// index's file, after the events: an indexer that read them before they
    /// went has committed by the time this write gets the index's lock, and
    /// one that reads after finds them gone. Nothing to do where no mweb ever built an index.
    private func deleteSearchRows(runId: Int64, ids: ClosedRange<Int64>) throws {
        guard let index = try searchFile.connections(create: false, bus: self) else { return }
        try searchFile.write(index.writer) { db in
            try db.execute(sql: "DELETE FROM search_text WHERE rowid BETWEEN ? AND ? AND run_id = ?",
                           arguments: [ids.lowerBound, ids.upperBound, runId])
        }
    }

    /// The database's size in pages and how many of them are free (reusable).
    public func pageCounts() throws -> (pageSize: Int, pages: Int, free: Int) {
        try read { db in
            (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096, try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
             try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
        }
    }

    /// Rewrites the file without its free pages (`VACUUM`): it holds the write
    /// lock for as long as the copy takes, so `mcli gc` runs it only when asked.
    public func vacuum() throws {
        try pool.writeWithoutTransaction { try $0.execute(sql: "VACUUM") }
    }

    /// Copies the WAL into the database file and truncates it, if no reader
    /// holds old frames (then it copies what it can and leaves the rest).
    public func truncateWAL() throws {
        try pool.writeWithoutTransaction { _ = try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
