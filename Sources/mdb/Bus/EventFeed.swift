import GRDBSQLite

/// Events of all runs by id, read the cheapest way: one prepared statement
/// on a read-only connection of its own, stepped directly (no pool, no queue
/// hop, no `BEGIN`/`COMMIT` around it: each page is one statement's
/// snapshot). For mweb's tailer, which reads a page after every commit.
/// Not thread-safe: one owner uses it.
public final class EventFeed {
    private let statement: RawStatement

    /// Opens its own read-only connection to the database at `path`.
    public init(path: String) throws {
        statement = try RawStatement(path: path, sql: Event.afterIdSQL)
    }

    /// Events with `id > afterId`, in commit order, at most `limit` (what
    /// `MDatabase.events(afterId:limit:)` returns, read the same way).
    public func events(afterId: Int64, limit: Int = Defaults.maxEventPageSize) throws -> [Event] {
        statement.bind(1, afterId)
        statement.bind(2, Int64(max(1, min(limit, Defaults.maxEventPageSize))))
        var events: [Event] = []
        try statement.rows { row in
            events.append(Event(id: sqlite3_column_int64(row, 0), runId: sqlite3_column_int64(row, 1),
                                seq: sqlite3_column_int64(row, 2), ts: Self.text(row, 3), type: Self.text(row, 4),
                                data: Self.text(row, 5)))
        }
        return events
    }

    /// A text column as a `String` (empty for NULL, which the schema forbids).
    private static func text(_ row: OpaquePointer, _ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(row, column) else { return "" }
        let count = Int(sqlite3_column_bytes(row, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
