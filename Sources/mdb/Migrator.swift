import GRDB

/// Applies the SQL files of `migrations/` in order, one transaction each, and
/// records each in `schema_migrations`; refuses a database migrated by a newer M.
public enum Migrator {
    /// One forward-only schema step, embedded from `migrations/NNNN_name.sql`.
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// Every migration this build knows, in order. A test checks this list
    /// against the files in `migrations/`.
    public static let all: [Migration] = [
        Migration(version: 1, name: "initial", sql: text(PackageResources._001_initial_sql)),
        Migration(version: 2, name: "processes", sql: text(PackageResources._002_processes_sql)),
        Migration(version: 3, name: "sessions", sql: text(PackageResources._003_sessions_sql)),
        Migration(version: 4, name: "output_batches", sql: text(PackageResources._004_output_batches_sql)),
        Migration(version: 5, name: "pairing_deadline", sql: text(PackageResources._005_pairing_deadline_sql)),
        Migration(version: 7, name: "confinement", sql: text(PackageResources._007_confinement_sql)),
        Migration(version: 8, name: "push", sql: text(PackageResources._008_push_sql)),
        Migration(version: 9, name: "search", sql: text(PackageResources._009_search_sql)),
    ]

    /// The newest schema version this build knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// The versions recorded in the database (empty for a fresh file).
    public static func appliedVersions(_ db: Database) throws -> [Int] {
        guard try db.tableExists("schema_migrations") else { return [] }
        return try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations ORDER BY version")
    }

    /// Applies every pending migration, at most up to `target`; returns the versions applied.
    @discardableResult
    public static func migrate(_ writer: some DatabaseWriter, path: String, upTo target: Int? = nil) throws -> [Int] {
        let limit = target ?? latestVersion
        // Check first, outside any write, so that a newer database is refused
        // without taking the write lock.
        let applied = try writer.read { try appliedVersions($0) }
        if let newest = applied.last, newest > latestVersion {
            throw MDBError.databaseTooNew(path: path, version: newest, known: latestVersion)
        }
        var done: [Int] = []
        for migration in all where migration.version <= limit {
            let didApply: Bool = try writer.writeWithoutTransaction { db in
                var result = false
                try db.inTransaction(.immediate) {
                    // Re-read inside the write lock: another process may have migrated meanwhile.
                    if try appliedVersions(db).contains(migration.version) { return .commit }
                    try db.execute(sql: migration.sql)
                    try db.execute(
                        sql: "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        arguments: [migration.version, migration.name])
                    result = true
                    return .commit
                }
                return result
            }
            if didApply { done.append(migration.version) }
        }
        return done
    }
}
