import GRDB

extension MDatabase {
    /// Requests a cancel (durably). A queued run is canceled at once (nothing
    /// runs it yet); a running one gets `cancel_requested_at` and a
    /// `cancel.requested` event for its executor. Asking twice is harmless.
    @discardableResult
    public func requestCancel(runId: Int64, by: String = "cli") throws -> Run {
        try write(.full) { db in
            let (status, _) = try MDatabase.statusAndHolder(db, runId)
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            let already = try Bool.fetchOne(db, sql: "SELECT cancel_requested_at IS NOT NULL FROM runs WHERE id = ?",
                                            arguments: [runId]) ?? false
            if !already {
                try db.execute(sql: "UPDATE runs SET cancel_requested_at = \(Timestamp.sqlNow) WHERE id = ?",
                               arguments: [runId])
                _ = try MDatabase.appendEvents(db, runId: runId, [
                    NewEvent(EventType.cancelRequested, .object([("by", .string(by))])),
                ])
            }
            if status == .queued {
                try db.execute(sql: """
                    UPDATE runs SET status = 'canceled', finished_at = \(Timestamp.sqlNow) WHERE id = ?
                    """, arguments: [runId])
                _ = try MDatabase.appendEvents(db, runId: runId, [
                    NewEvent(EventType.runFinished, .object([("status", "canceled")])),
                ])
            }
            return try Run.fetchOne(db, key: runId)!
        }
    }
}
