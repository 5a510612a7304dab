import Foundation
import GRDBSQLite

/// Moves committed WAL frames into the database file off the writers' path.
/// SQLite's automatic checkpoint runs inside whichever commit crosses the
/// threshold, so one output commit in a thousand would pay for copying the
/// WAL and an fsync; the shared writer raises its own threshold and this
/// runs a PASSIVE checkpoint (it never blocks writers or readers) on its own
/// raw connection, from a thread of the daemon, after commits were seen.
public final class Checkpointer: @unchecked Sendable {
    private let version: RawStatement
    private var lastVersion: Int64 = -1

    /// Opens its own connection to the database at `path`.
    public init(path: String) throws {
        version = try RawStatement(path: path, sql: "PRAGMA data_version", writable: true)
    }

    /// Checkpoints (PASSIVE) if anything was committed since the last call;
    /// returns the WAL frames copied, or nil when nothing had changed.
    /// Not thread-safe: one owner calls it.
    @discardableResult
    public func checkpointIfChanged() throws -> Int? {
        let current = try version.row { sqlite3_column_int64($0, 0) }
        guard let current, current != lastVersion else { return nil }
        lastVersion = current
        var logFrames: Int32 = 0, copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(version.connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copied)
        guard rc == SQLITE_OK || rc == SQLITE_BUSY else {
            throw RawStatementError.checkpointFailed(path: version.path, message: version.lastError)
        }
        return Int(copied)
    }

    /// Checkpoints every `intervalMilliseconds` while commits come, every
    /// second when idle, until `stop` says so; `failed` hears of an error
    /// (SQLite's own checkpoint then runs instead). Blocks: run it on a thread of its own.
    public func run(intervalMilliseconds: Int, stop: () -> Bool, failed: (Error) -> Void) {
        var idle = false
        while !stop() {
            usleep(UInt32(idle ? 1_000 : intervalMilliseconds) * 1000)
            do { idle = try checkpointIfChanged() == nil } catch { failed(error) }
        }
    }
}
