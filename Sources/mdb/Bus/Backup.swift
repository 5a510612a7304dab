import Foundation
import GRDB

extension MDatabase {
    /// Writes a consistent copy of the database to `destination` (`VACUUM INTO`):
    /// one read transaction, so writers go on and the copy holds exactly what was
    /// committed when it began, compacted, with no `-wal` beside it.
    public func backup(to destination: String) throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw MDBError.invalidArgument("\(destination) exists already: give a new file name, or remove it first")
        }
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
            }
        } catch let error as DatabaseError {
            throw MDBError.invalidArgument("cannot write the backup \(destination): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// `PRAGMA integrity_check` of the database file at `path`, opened read-only:
    /// `["ok"]` when it is sound, else SQLite's list of what is wrong.
    public static func integrityCheck(path: String) throws -> [String] {
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            return try queue.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        } catch let error as DatabaseError {
            throw MDBError.notADatabase(path: path, detail: error.message ?? "\(error.resultCode)")
        }
    }
}

/// What a database file holds, read without changing it (a backup, a file to restore).
public struct DatabaseSummary: Sendable {
    /// The newest migration applied to it.
    public var schemaVersion: Int
    /// How many runs and events it holds.
    public var runs: Int, events: Int
    /// The last event id (0 when there is none).
    public var lastEventId: Int64
}

extension MDatabase {
    /// Reads a database file's summary through a read-only connection (no `-wal` is created for it).
    public static func summary(path: String) throws -> DatabaseSummary {
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            return try queue.read { db in
                DatabaseSummary(
                    schemaVersion: try Migrator.appliedVersions(db).last ?? 0,
                    runs: try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") ?? 0,
                    events: try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0,
                    lastEventId: try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM events") ?? 0)
            }
        } catch let error as DatabaseError {
            throw MDBError.notADatabase(path: path, detail: error.message ?? "\(error.resultCode)")
        }
    }
}
