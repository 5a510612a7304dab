import Foundation
import GRDB

/// Applies the SQL files of `migrations/` in order, one transaction each, and
/// records each in `schema_migrations`; refuses a database migrated by a newer M.
public enum Migrator {
    /// One forward-only schema step, embedded from `migrations/NNNN_name.sql`.
    public struct Migration: Sendable {
        /// Its number, from the file name.
        public let version: Int
        /// Its name, from the file name.
        public let name: String
        /// The statements, applied in one transaction.
        public let sql: String
        /// Why an executor of the previous M could not go on after it, if it
        /// cannot: the file says so in a line `-- breaking: <why>`. Such a
        /// migration waits until no run is running or waiting.
        public let breaking: String?

        /// A migration from its file's parts; `breaking` is read from the SQL.
        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
            breaking = sql.split(separator: "\n").lazy
                .first { $0.hasPrefix("-- breaking:") }
                .map { $0.dropFirst("-- breaking:".count).trimmingCharacters(in: .whitespaces) }
        }
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
        Migration(version: 10, name: "push_subscriptions", sql: text(PackageResources._010_push_subscriptions_sql)),
        Migration(version: 12, name: "web_listeners", sql: text(PackageResources._012_web_listeners_sql)),
        Migration(version: 13, name: "output_counts", sql: text(PackageResources._013_output_counts_sql)),
        Migration(version: 14, name: "search_file", sql: text(PackageResources._014_search_file_sql)),
    ]

    /// The newest schema version this build knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// The versions recorded in the database (empty for a fresh file).
    public static func appliedVersions(_ db: Database) throws -> [Int] {
        guard try db.tableExists("schema_migrations") else { return [] }
        return try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations ORDER BY version")
    }

    /// Applies every pending migration of `migrations`, at most up to
    /// `target`; returns the versions applied. A breaking migration is refused
    /// while runs are running or waiting: their executors are the previous
    /// M's and would fail on the new schema mid-run.
    @discardableResult
    public static func migrate(_ writer: some DatabaseWriter, path: String, upTo target: Int? = nil,
                               migrations: [Migration] = all) throws -> [Int] {
        let latestVersion = migrations.last?.version ?? 0
        let limit = target ?? latestVersion
        // Check first, outside any write, so that a newer database is refused
        // without taking the write lock.
        let applied = try writer.read { try appliedVersions($0) }
        if let newest = applied.last, newest > latestVersion {
            throw MDBError.databaseTooNew(path: path, version: newest, known: latestVersion)
        }
        var done: [Int] = []
        for migration in migrations where migration.version <= limit {
            let didApply: Bool = try writer.writeWithoutTransaction { db in
                var result = false
                try db.inTransaction(.immediate) {
                    // Re-read inside the write lock: another process may have migrated meanwhile.
                    if try appliedVersions(db).contains(migration.version) { return .commit }
                    if let why = migration.breaking {
                        let active = try Int64.fetchAll(db, sql: """
                            SELECT id FROM runs WHERE status IN ('running', 'waiting_approval') ORDER BY id
                            """)
                        if !active.isEmpty {
                            throw MDBError.migrationWaitsForRuns(path: path, version: migration.version, name: migration.name,
                                                                 why: why, runIds: active)
                        }
                    }
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
