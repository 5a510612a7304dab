import GRDBSQLite

/// One prepared statement on a raw SQLite connection of its own: the cheap
/// checks that run every tick (`PRAGMA data_version`, the writer's
/// `RequestWatch`, the checkpointer) without a pool, a queue hop or a
/// transaction left open. Not thread-safe: one owner uses it.
final class RawStatement {
    /// The connection, for calls beyond the statement (a checkpoint).
    let connection: OpaquePointer
    /// The database file, for error messages.
    let path: String
    private let statement: OpaquePointer

    /// Opens `path` (read-only unless `writable`) and prepares `sql`.
    init(path: String, sql: String, writable: Bool = false) throws {
        var connection: OpaquePointer?
        let flags = (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &connection, flags, nil) == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(connection)
            throw RawStatementError.cannotOpen(path: path, message: message)
        }
        sqlite3_busy_timeout(connection, 1000)
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_close(connection)
            throw RawStatementError.cannotPrepare(path: path, message: message)
        }
        self.path = path
        self.connection = connection
        self.statement = statement
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(connection)
    }

    /// Binds an integer parameter (1-based) for every later step.
    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(statement, index, value)
    }

    /// Steps once and reads the row with `read` (nil when there is none). The
    /// statement is reset at once: an open statement would pin a read snapshot.
    func row<T>(_ read: (OpaquePointer) -> T) throws -> T? {
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return read(statement)
        case SQLITE_DONE: return nil
        default: throw RawStatementError.queryFailed(path: path, message: lastError)
        }
    }

    /// Steps through every row, handing each to `read`, then resets.
    func rows(_ read: (OpaquePointer) -> Void) throws {
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: read(statement)
            case SQLITE_DONE: return
            default: throw RawStatementError.queryFailed(path: path, message: lastError)
            }
        }
    }

    /// The connection's last error message.
    var lastError: String { String(cString: sqlite3_errmsg(connection)) }
}
