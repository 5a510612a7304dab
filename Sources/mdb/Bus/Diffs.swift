import GRDB

extension MDatabase {
    /// A run's diffs, newest first (throws `runNotFound` for an unknown run).
    public func diffs(runId: Int64, limit: Int = 100) throws -> [Diff] {
        try read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [runId]) == true else {
                throw MDBError.runNotFound(runId)
            }
            return try Diff.fetchAll(db, sql: "SELECT * FROM diffs WHERE run_id = ? ORDER BY id DESC LIMIT ?",
                                     arguments: [runId, max(1, min(limit, Defaults.maxEventPageSize))])
        }
    }

    /// One diff with its patch, or `diffNotFound`.
    public func diff(_ id: Int64) throws -> Diff {
        guard let diff = try read({ try Diff.fetchOne($0, key: id) }) else { throw MDBError.diffNotFound(id) }
        return diff
    }

    /// Asks a run's executor for a fresh diff of its workspace (durably). The
    /// executor answers with a `diffs` row and a `diff.created` event.
    public func requestDiff(runId: Int64, by: String) throws -> DiffRequest {
        try write(.full) { db in
            let (status, _) = try MDatabase.statusAndHolder(db, runId)
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            return try DiffRequest.fetchOne(db, sql: """
                INSERT INTO diff_requests (run_id, requested_by) VALUES (?, ?) RETURNING *
                """, arguments: [runId, by])!
        }
    }

    /// Diff requests not yet handled, oldest first (for the run's executor).
    public func pendingDiffRequests(runId: Int64) throws -> [DiffRequest] {
        try read { db in
            try DiffRequest.fetchAll(db, sql: """
                SELECT * FROM diff_requests WHERE run_id = ? AND handled_at IS NULL ORDER BY id
                """, arguments: [runId])
        }
    }
}
