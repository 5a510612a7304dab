import GRDB

/// A cheap "did anyone commit?" check: `PRAGMA data_version` on a dedicated
/// connection changes whenever another connection commits. Pollers call
/// `changed()` often and run real queries only when it says yes.
public final class ChangeWatch: @unchecked Sendable {
    private let queue: DatabaseQueue
    private var lastVersion: Int?

    /// Opens its own read-only connection to the database at `path`.
    public init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(1)
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    /// True when something was committed since the last call (and on the first call).
    /// Not thread-safe: one poller owns a watch.
    public func changed() throws -> Bool {
        let version = try queue.inDatabase { try Int.fetchOne($0, sql: "PRAGMA data_version") ?? 0 }
        defer { lastVersion = version }
        return version != lastVersion
    }
}
