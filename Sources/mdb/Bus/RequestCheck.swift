import GRDBSQLite

/// An executor's per-tick question, "is anything waiting for this run?",
/// asked through one prepared statement on a raw read-only connection (a
/// few microseconds, no pool, no transaction kept open). Under load every
/// tick sees some commit; this keeps the full read (`runRequests`) for the
/// ticks where this run has something to act on.
public final class RequestCheck: @unchecked Sendable {
    /// What is waiting, as flags.
    public struct Pending: Sendable, Equatable {
        /// A cancel was requested.
        public var cancel: Bool
        /// Some input is not delivered yet.
        public var input: Bool
        /// Some diff request is not handled yet.
        public var diffRequest: Bool

        public init(cancel: Bool, input: Bool, diffRequest: Bool) {
            self.cancel = cancel
            self.input = input
            self.diffRequest = diffRequest
        }
    }

    private let query: RawStatement

    /// Opens its own read-only connection to the database at `path`, for `runId`.
    public init(path: String, runId: Int64) throws {
        query = try RawStatement(path: path, sql: """
            SELECT cancel_requested_at IS NOT NULL,
                   EXISTS (SELECT 1 FROM inputs WHERE run_id = ?1 AND delivered_at IS NULL),
                   EXISTS (SELECT 1 FROM diff_requests WHERE run_id = ?1 AND handled_at IS NULL)
            FROM runs WHERE id = ?1
            """)
        query.bind(1, runId)
    }

    /// What is waiting for the run now (nothing, for a run that does not exist).
    /// Not thread-safe: one owner calls it.
    public func pending() throws -> Pending {
        try query.row { row in
            Pending(cancel: sqlite3_column_int(row, 0) != 0, input: sqlite3_column_int(row, 1) != 0,
                    diffRequest: sqlite3_column_int(row, 2) != 0)
        } ?? Pending(cancel: false, input: false, diffRequest: false)
    }
}
