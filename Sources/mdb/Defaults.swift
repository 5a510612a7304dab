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
    /// Events `mcli gc` deletes per transaction (with their search rows): a
    /// batch holds the write lock, and a line an agent prints meanwhile waits
    /// for it, so a batch must stay a few milliseconds long on a busy machine.
    public static let gcBatchEvents: Int = 100
    /// The shortest pause between two of gc's batches, in which other writers take their turn.
    public static let gcPauseMilliseconds: Int = 2
    /// gc rests this many times as long as its last batch took: it holds the
    /// write lock at most a quarter of the time, however slow the machine is.
    public static let gcRestFactor: Double = 3
    /// Events the search indexer reads and inserts per batch. Its write holds
    /// the lock while FTS5 tokenises them, and every line an agent prints
    /// meanwhile waits for it: batches of a few milliseconds keep the loaded
    /// latency's tail where it was without the index (500 took it past its target).
    public static let searchBatchEvents: Int = 100
    /// The most event data one search-index write takes (at least one event):
    /// a fast build log's chunks are large, and the write lock is held while
    /// FTS5 tokenises them.
    public static let searchBatchBytes: Int = 64 * 1024
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
