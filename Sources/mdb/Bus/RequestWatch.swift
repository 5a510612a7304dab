import GRDBSQLite

/// The question behind the shared writer's ring, asked every few
/// milliseconds for all runs at once: what is waiting for each
/// running run (a cancel, the newest undelivered input, the newest unhandled
/// diff request). The writer rings a run's executor only when its answer
/// changes, so executors need not poll the database themselves. One
/// statement on a raw read-only connection; the pending rows are read
/// through their partial indexes, so the cost does not grow with history.
public final class RequestWatch: @unchecked Sendable {
    /// What waits for one run; two answers that differ mean something new came.
    public struct Waiting: Sendable, Equatable {
        /// A cancel was requested.
        public var cancel = false
        /// The id of the newest input not delivered yet.
        public var newestInput: Int64?
        /// The id of the newest diff request not handled yet.
        public var newestDiffRequest: Int64?

        public init(cancel: Bool = false, newestInput: Int64? = nil, newestDiffRequest: Int64? = nil) {
            self.cancel = cancel
            self.newestInput = newestInput
            self.newestDiffRequest = newestDiffRequest
        }
    }

    private let query: RawStatement

    /// Opens its own read-only connection to the database at `path`.
    public init(path: String) throws {
        query = try RawStatement(path: path, sql: """
            SELECT id, 0, 0 FROM runs
                WHERE status IN ('running', 'waiting_approval') AND cancel_requested_at IS NOT NULL
            UNION ALL
            SELECT run_id, 1, max(id) FROM inputs WHERE delivered_at IS NULL GROUP BY run_id
            UNION ALL
            SELECT run_id, 2, max(id) FROM diff_requests WHERE handled_at IS NULL GROUP BY run_id
            """)
    }

    /// What waits for each run that has anything waiting (a run with nothing is absent).
    /// Not thread-safe: one owner calls it.
    public func waiting() throws -> [Int64: Waiting] {
        var found: [Int64: Waiting] = [:]
        try query.rows { row in
            let runId = sqlite3_column_int64(row, 0)
            let id = sqlite3_column_int64(row, 2)
            switch sqlite3_column_int(row, 1) {
            case 0: found[runId, default: Waiting()].cancel = true
            case 1: found[runId, default: Waiting()].newestInput = id
            default: found[runId, default: Waiting()].newestDiffRequest = id
            }
        }
        return found
    }
}
