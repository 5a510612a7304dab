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

    private var connection: OpaquePointer?
    private var statement: OpaquePointer?

    /// Opens its own read-only connection to the database at `path`, for `runId`.
    public init(path: String, runId: Int64) throws {
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(connection)
            throw ChangeWatch.WatchError.cannotOpen(path: path, message: message)
        }
        sqlite3_busy_timeout(connection, 1000)
        let sql = """
            SELECT cancel_requested_at IS NOT NULL,
                   EXISTS (SELECT 1 FROM inputs WHERE run_id = ?1 AND delivered_at IS NULL),
                   EXISTS (SELECT 1 FROM diff_requests WHERE run_id = ?1 AND handled_at IS NULL)
            FROM runs WHERE id = ?1
            """
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK,
              sqlite3_bind_int64(statement, 1, runId) == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_finalize(statement)
            sqlite3_close(connection)
            throw ChangeWatch.WatchError.cannotOpen(path: path, message: message)
        }
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(connection)
    }

    /// What is waiting for the run now (nothing, for a run that does not exist).
    /// Not thread-safe: one owner calls it.
    public func pending() throws -> Pending {
        sqlite3_reset(statement)
        // Reset right after reading: an open statement would pin a read snapshot.
        defer { sqlite3_reset(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            return Pending(cancel: sqlite3_column_int(statement, 0) != 0, input: sqlite3_column_int(statement, 1) != 0,
                           diffRequest: sqlite3_column_int(statement, 2) != 0)
        case SQLITE_DONE:
            return Pending(cancel: false, input: false, diffRequest: false)
        default:
            throw ChangeWatch.WatchError.queryFailed(message: String(cString: sqlite3_errmsg(connection)))
        }
    }
}
