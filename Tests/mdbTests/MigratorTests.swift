import Foundation
import GRDB
import MTestSupport
import Testing
@testable import mdb

/// The repository root, found from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Every table, index and trigger definition, normalised for comparison.
func schemaDefinitions(_ db: Database) throws -> [String: String] {
    let rows = try Row.fetchAll(db, sql: """
        SELECT name, sql FROM sqlite_master
        WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name
        """)
    var result: [String: String] = [:]
    for row in rows {
        let sql: String = row["sql"]
        result[row["name"]] = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
    return result
}

@Suite struct MigratorTests {
    @Test func everyMigrationFileIsRegisteredInOrder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("migrations").path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        let registered = Migrator.all.map { String(format: "%04d_%@.sql", $0.version, $0.name) }
        #expect(files == registered)
        for (file, migration) in zip(files, Migrator.all) {
            let text = try String(contentsOf: repoRoot.appendingPathComponent("migrations/\(file)"), encoding: .utf8)
            #expect(text == migration.sql, "the embedded \(file) is stale: rebuild")
        }
    }

    @Test func freshDatabaseEndsAtSchemaSQL() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let migrated = try db.read(schemaDefinitions)
        let reference = try DatabaseQueue()
        try reference.write { try $0.execute(sql: String(contentsOf: repoRoot.appendingPathComponent("schema.sql"), encoding: .utf8)) }
        #expect(try reference.read(schemaDefinitions) == migrated)
        #expect(try db.schemaVersions() == Migrator.all.map(\.version))
    }

    @Test func olderDatabaseMigratesToSchemaSQL() throws {
        let reference = try DatabaseQueue()
        try reference.write { try $0.execute(sql: String(contentsOf: repoRoot.appendingPathComponent("schema.sql"), encoding: .utf8)) }
        let expected = try reference.read(schemaDefinitions)
        for older in [0] + Migrator.all.dropLast().map(\.version) {
            let tmp = TempDir()
            let partial = try MDatabase(path: tmp.dbPath, create: true, migrate: false)
            try Migrator.migrate(partial.pool, path: tmp.dbPath, upTo: older)
            #expect(try partial.schemaVersions().last ?? 0 == older)
            let db = try MDatabase(path: tmp.dbPath)
            #expect(try db.read(schemaDefinitions) == expected)
            #expect(try db.schemaVersions().last == Migrator.latestVersion)
        }
    }

    @Test func databaseFromTheFutureIsRefused() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        try db.write { try $0.execute(sql: "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')") }
        #expect(throws: MDBError.databaseTooNew(path: tmp.dbPath, version: 9999, known: Migrator.latestVersion)) {
            _ = try MDatabase(path: tmp.dbPath)
        }
        let message = MDBError.databaseTooNew(path: tmp.dbPath, version: 9999, known: 1).description
        #expect(message.contains("upgrade M"))
    }

    @Test func migratingTwiceIsANoOp() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        #expect(try Migrator.migrate(db.pool, path: tmp.dbPath).isEmpty)
    }
}
