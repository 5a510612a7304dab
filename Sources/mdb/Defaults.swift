import Foundation

/// Every tunable of the bus in one place, with its unit in its name.
public enum Defaults {
    /// How long a writer waits on a locked database before giving up.
    public static let busyTimeoutSeconds: Double = 10
    /// How long a claimed run's lease lasts without a heartbeat.
    public static let leaseDurationSeconds: Double = 15
    /// How often a worker renews its runs' leases (a third of the lease).
    public static let heartbeatIntervalMilliseconds: Int = 5_000
    /// How often a watcher checks `PRAGMA data_version` when inotify is unavailable.
    public static let changePollIntervalMicroseconds: Int = 1_000
    /// With inotify, how long a watcher sleeps at most before checking anyway.
    public static let changeFallbackPollMilliseconds: Int = 250
    /// Largest page of events one query returns.
    public static let maxEventPageSize: Int = 1_000
    /// How long a browser session (cookie) lasts.
    public static let sessionLifetimeSeconds: Double = 30 * 24 * 3600
    /// How long a pairing link's token (`mcli up`, `mcli pair`) waits for its first use.
    public static let pairingWindowSeconds: Double = 15 * 60
    /// Events `mcli gc` deletes per transaction: short enough that executors
    /// and mweb get the write lock between two batches.
    public static let gcBatchEvents: Int = 2_000
    /// The pause between two of gc's batches, in which other writers take their turn.
    public static let gcPauseMilliseconds: Int = 2
    /// Events the search indexer reads and inserts per batch: its write holds
    /// the lock only for these inserts, so executors get it between batches.
    public static let searchBatchEvents: Int = 500
    /// The most event data one search-index write takes (at least one event):
    /// a fast build log's chunks are large, and the write lock is held while
    /// FTS5 tokenises them.
    public static let searchBatchBytes: Int = 256 * 1024
    /// Database file name used when neither `--db` nor `M_DB` is given.
    public static let databaseFileName = "m.db"
    /// Environment variable naming the database file.
    public static let databaseEnvironmentVariable = "M_DB"

    /// The database path from an explicit flag, else `M_DB`, else `./m.db`.
    public static func databasePath(explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = ProcessInfo.processInfo.environment[databaseEnvironmentVariable], !env.isEmpty { return env }
        return databaseFileName
    }
}
