import GRDBSQLite

/// Moves committed WAL frames into the database file off the writers' path.
/// SQLite's automatic checkpoint runs inside whichever commit crosses the
/// threshold, so one output commit in a thousand would pay for copying the
/// WAL and an fsync; the shared writer raises its own threshold and this
/// runs a PASSIVE checkpoint (it never blocks writers or readers) on its own
/// raw connection, from a thread of the daemon, after commits were seen.
public final class Checkpointer: @unchecked Sendable {
    private var connection: OpaquePointer?
    private var version: OpaquePointer?
    private var lastVersion: Int64 = -1

    /// Opens its own connection to the database at `path`.
    public init(path: String) throws {
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
              sqlite3_prepare_v2(connection, "PRAGMA data_version", -1, &version, nil) == SQLITE_OK else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_finalize(version)
            sqlite3_close(connection)
            throw ChangeWatch.WatchError.cannotOpen(path: path, message: message)
        }
        sqlite3_busy_timeout(connection, 1000)
    }

    deinit {
        sqlite3_finalize(version)
        sqlite3_close(connection)
    }

    /// Checkpoints (PASSIVE) if anything was committed since the last call;
    /// returns the WAL frames copied, or nil when nothing had changed.
    /// Not thread-safe: one owner calls it.
    @discardableResult
    public func checkpointIfChanged() throws -> Int? {
        sqlite3_reset(version)
        guard sqlite3_step(version) == SQLITE_ROW else {
            defer { sqlite3_reset(version) }
            throw ChangeWatch.WatchError.queryFailed(message: String(cString: sqlite3_errmsg(connection)))
        }
        let current = sqlite3_column_int64(version, 0)
        sqlite3_reset(version)
        guard current != lastVersion else { return nil }
        lastVersion = current
        var logFrames: Int32 = 0, copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copied)
        guard rc == SQLITE_OK || rc == SQLITE_BUSY else {
            throw ChangeWatch.WatchError.queryFailed(message: String(cString: sqlite3_errmsg(connection)))
        }
        return Int(copied)
    }
}
