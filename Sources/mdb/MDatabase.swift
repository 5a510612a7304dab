import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// An open M database: a WAL-mode connection pool with M's pragmas and an
/// up-to-date schema. Every bus primitive is an extension of this type.
public final class MDatabase: Sendable {
    /// The file this database lives in.
    public let path: String
    /// The GRDB pool: one writer and several readers (WAL).
    public let pool: DatabasePool
    /// The search index's own file beside it (`<path>-search`), opened when first used.
    let searchFile: SearchFile

    /// How a write is made durable before it returns.
    public enum Durability: Sendable {
        /// `synchronous=NORMAL`: committed, survives a crash of the process;
        /// a power cut may take the last transactions (output, heartbeats).
        case normal
        /// `synchronous=FULL`: the WAL is fsynced before commit returns. For
        /// what a person decided (a new run, input, approval decision, cancel).
        case full
    }

    /// Opens (and with `create`, creates) the database at `path` and applies
    /// pending migrations. Throws `MDBError` with an actionable message.
    /// `autoCheckpointPages` raises SQLite's automatic checkpoint threshold for
    /// this connection (a writer whose checkpoints another thread runs);
    /// `walWriteBuffer` opens it through `WALWriteBuffer`'s VFS (a writer that
    /// commits many times a second).
    public init(path: String, create: Bool = false, migrate: Bool = true, autoCheckpointPages: Int? = nil,
                walWriteBuffer: Bool = false) throws {
        self.path = path
        searchFile = SearchFile(busPath: path)
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            guard create else { throw MDBError.databaseMissing(path: path) }
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty && !fm.fileExists(atPath: dir) {
                throw MDBError.invalidArgument("cannot create \(path): the directory \(dir) does not exist")
            }
            // Created empty and 0600 before SQLite opens it: SQLite gives the -wal and -shm files
            // the database's own mode, so none of the three is ever readable by another user.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .callback(MDatabase.busyCallback)
        config.maximumReaderCount = 4
        config.prepareDatabase { db in
            // NORMAL in WAL mode: a commit is durable against a process crash; a
            // power cut can lose the most recent commits but never corrupts the
            // file. Decisions upgrade to FULL for their own transaction.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if let autoCheckpointPages { try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autoCheckpointPages)") }
        }
        do {
            let opened = walWriteBuffer && WALWriteBuffer.available ? WALWriteBuffer.uri(path) : path
            pool = try DatabasePool(path: opened, configuration: config)
            try pool.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
        } catch let error as DatabaseError {
            throw MDBError.notADatabase(path: path, detail: error.message ?? "\(error.resultCode)")
        }
        if migrate {
            do {
                try Migrator.migrate(pool, path: path)
            } catch let error as DatabaseError {
                throw MDBError.notADatabase(path: path, detail: error.message ?? "\(error.resultCode)")
            }
        }
    }

    /// SQLite's own busy handler sleeps in growing steps (up to 100 ms), which
    /// shows up as latency spikes when writers contend. Spin in short sleeps
    /// first, then back off to 1 ms, for about `Defaults.busyTimeoutSeconds` in all.
    private static let busyCallback: Database.BusyCallback = { tries in
        if tries < 20 {
            usleep(50)            // ~1 ms of fast retries: the lock is usually free again within it
            return true
        }
        if tries < 200 {
            // Many writers (an executor per run): back off with jitter so that
            // sleepers do not wake in lockstep and burn the CPU the holder needs.
            usleep(UInt32(200 + Int.random(in: 0..<300)))
            return true
        }
        if tries < 200 + Int(Defaults.busyTimeoutSeconds * 1000) {
            usleep(1000)
            return true
        }
        return false
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction with the given durability.
    public func write<T>(_ durability: Durability = .normal, _ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            if durability == .full { try db.execute(sql: "PRAGMA synchronous = FULL") }
            defer { if durability == .full { try? db.execute(sql: "PRAGMA synchronous = NORMAL") } }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// The schema versions recorded in this database.
    public func schemaVersions() throws -> [Int] {
        try pool.read { try Migrator.appliedVersions($0) }
    }
}
