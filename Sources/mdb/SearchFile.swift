import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The search index's own SQLite file, `<database>-search`, beside the bus.
///
/// Why a file of its own: FTS5 merges its segments inside whichever write
/// crosses a threshold, and on a big index a merge takes tens of
/// milliseconds. In the bus's file that write would hold the one write lock
/// every executor's output waits for (the loaded latency's p99 more than
/// doubled while `mcli gc` deleted index rows). Here the indexer and gc hold
/// this file's lock instead; they read `events` and `runs` through the bus
/// attached as `bus`, which takes no lock a writer waits for.
///
/// The file holds nothing that is not derived from `events`: when it is
/// missing, or indexes another database (a restore), it is rebuilt from
/// scratch, and a backup of the bus need not carry it.
final class SearchFile: @unchecked Sendable {
    /// Where the index lives: the bus's path with `-search` appended.
    let path: String
    private let busPath: String
    private let lock = NSLock()
    private var opened: (writer: DatabaseQueue, reader: DatabaseQueue)?

    init(busPath: String) {
        self.busPath = busPath
        path = busPath + "-search"
    }

    /// The open index's two connections, opened (and the file created or
    /// rebuilt) on first use; nil when the file does not exist and `create`
    /// is false (gc has nothing to delete from an index no mweb ever built).
    /// One connection writes (the indexer, gc), one reads (searches), so a
    /// search never waits for a batch. Queues, not a GRDB pool: a pool sets
    /// the journal mode on open, and a pragma without a schema name applies to
    /// every attached database, so it would wait for the bus's write lock.
    func connections(create: Bool, bus: MDatabase) throws -> (writer: DatabaseQueue, reader: DatabaseQueue)? {
        lock.lock()
        defer { lock.unlock() }
        if let opened { return opened }
        guard create || FileManager.default.fileExists(atPath: path) else { return nil }
        // Made 0600 before SQLite opens it, like the bus: the index holds every run's output.
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        var config = Configuration()
        config.busyMode = .timeout(Defaults.busyTimeoutSeconds)
        do {
            let (identity, lastEventId) = try bus.read { db in
                (try String.fetchOne(db, sql: "SELECT value FROM database_id WHERE id = 1") ?? "",
                 try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'") ?? 0)
            }
            // The schema is made before the bus is attached, so this one transaction may be IMMEDIATE.
            try DatabaseQueue(path: path, configuration: config).writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.inTransaction(.immediate) {
                    try Self.prepare(db, identity: identity, lastEventId: lastEventId)
                    return .commit
                }
            }
            config.prepareDatabase { [busPath] db in
                try db.execute(sql: "PRAGMA main.synchronous = NORMAL")
                try db.execute(sql: "ATTACH DATABASE ? AS bus", arguments: [busPath])
            }
            let pair = (writer: try DatabaseQueue(path: path, configuration: config),
                        reader: try DatabaseQueue(path: path, configuration: config))
            opened = pair
            return pair
        } catch let error as DatabaseError {
            throw MDBError.notADatabase(path: path, detail: (error.message ?? "\(error.resultCode)")
                                        + "; the search index can be rebuilt: stop mweb, delete \(path) and start it again")
        }
    }

    /// Runs `body` in one write transaction on the index. DEFERRED, never
    /// IMMEDIATE: an immediate transaction takes the write lock of every
    /// attached database, the bus's among them. `body` must write before it
    /// reads, so that its snapshot is taken with the lock held.
    func write<T>(_ writer: DatabaseQueue, _ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.deferred) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// Creates the index, or empties it when it indexes another database than
    /// the bus it sits beside: one whose `database_id` differs, or whose
    /// events never reached the index's cursor (an older copy of the same
    /// database restored by hand, whose next event ids the index already used).
    private static func prepare(_ db: Database, identity: String, lastEventId: Int64) throws {
        if try db.tableExists("search_cursor") {
            let row = try Row.fetchOne(db, sql: "SELECT bus_identity, after_event_id FROM search_cursor WHERE id = 1")
            let same = row.map { ($0["bus_identity"] as String?) == identity && ($0["after_event_id"] as Int64? ?? 0) <= lastEventId }
            if same == true { return }
            try db.execute(sql: "DROP TABLE search_cursor")
            try db.execute(sql: "DROP TABLE IF EXISTS search_text")
        }
        try db.execute(sql: """
            CREATE VIRTUAL TABLE search_text USING fts5 (
                text,
                run_id UNINDEXED,
                seq UNINDEXED,
                tokenize = 'unicode61 remove_diacritics 2'
            );
            CREATE TABLE search_cursor (
                id              INTEGER PRIMARY KEY CHECK (id = 1),
                bus_identity    TEXT NOT NULL,
                after_event_id  INTEGER NOT NULL DEFAULT 0 CHECK (after_event_id >= 0),
                updated_at      TEXT
            );
            """)
        try db.execute(sql: "INSERT INTO search_cursor (id, bus_identity, after_event_id) VALUES (1, ?, 0)", arguments: [identity])
    }
}
