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

    /// A migration marked `-- breaking:` (one an old executor could not follow)
    /// waits while runs are running or waiting, says which, changes nothing,
    /// and applies once they have ended.
    @Test func aBreakingMigrationWaitsUntilTheRunsEnd() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let running = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        let waiting = try db.createRun(NewRun(spec: RunSpec(command: "b")))
        let queued = try db.createRun(NewRun(spec: RunSpec(command: "c")))
        _ = try db.claimNextRun(workerId: "old")
        _ = try db.claimNextRun(workerId: "old")
        try db.write { try $0.execute(sql: "UPDATE runs SET status = 'waiting_approval' WHERE id = ?", arguments: [waiting.id]) }
        let breaking = Migrator.Migration(version: Migrator.latestVersion + 1, name: "rename_output", sql: """
            -- breaking: events.type 'output' becomes 'stdout', which an older executor does not write
            CREATE TABLE renamed (x INTEGER);
            """)
        #expect(breaking.breaking == "events.type 'output' becomes 'stdout', which an older executor does not write")
        #expect(Migrator.all.allSatisfy { $0.breaking == nil }, "no shipped migration is breaking yet")
        let migrations = Migrator.all + [breaking]
        #expect(throws: MDBError.migrationWaitsForRuns(path: tmp.dbPath, version: breaking.version, name: "rename_output",
                                                       why: breaking.breaking ?? "", runIds: [running.id, waiting.id])) {
            try Migrator.migrate(db.pool, path: tmp.dbPath, migrations: migrations)
        }
        let message = MDBError.migrationWaitsForRuns(path: tmp.dbPath, version: breaking.version, name: "rename_output",
                                                     why: "x", runIds: [running.id, waiting.id]).description
        #expect(message.contains("run(s) \(running.id), \(waiting.id) end") && message.contains("Nothing was changed"))
        #expect(try db.read { try $0.tableExists("renamed") } == false)
        #expect(try db.schemaVersions().last == Migrator.latestVersion)
        // A queued run has no executor yet: only running and waiting ones hold it back.
        for id in [running.id, waiting.id] {
            try db.write { try $0.execute(sql: "UPDATE runs SET status = 'succeeded', finished_at = '2026-01-01T00:00:00.000Z' WHERE id = ?", arguments: [id]) }
        }
        #expect(try db.run(queued.id).status == .queued)
        #expect(try Migrator.migrate(db.pool, path: tmp.dbPath, migrations: migrations) == [breaking.version])
        #expect(try db.read { try $0.tableExists("renamed") })
    }
}
