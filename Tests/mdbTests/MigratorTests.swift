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

    @Test func theOutputCountsOfRunsStillGoingAreFilledFromTheirEvents() throws {
        let tmp = TempDir()
        let partial = try MDatabase(path: tmp.dbPath, create: true, migrate: false)
        try Migrator.migrate(partial.pool, path: tmp.dbPath, upTo: 12)
        try partial.pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, title, status, created_at, last_seq) VALUES (1, 'going', 'running', '2026-01-01T00:00:00.000Z', 5),
                                                                             (2, 'done', 'succeeded', '2026-01-01T00:00:00.000Z', 1);
                INSERT INTO events (run_id, seq, ts, type, data) VALUES
                    (1, 1, '2026-01-01T00:00:00.000Z', 'output', '{"stream":"stdout","text":"hé\\n"}'),
                    (1, 2, '2026-01-01T00:00:00.000Z', 'output', '{"stream":"stdout","b64":"AAEC"}'),
                    (1, 3, '2026-01-01T00:00:00.000Z', 'output', '{"stream":"stderr","b64":"AA=="}'),
                    (1, 4, '2026-01-01T00:00:00.000Z', 'output', '{"stream":"pty","text":"ab"}'),
                    (1, 5, '2026-01-01T00:00:00.000Z', 'notice', '{"text":"output cap of 10 bytes reached"}'),
                    (2, 1, '2026-01-01T00:00:00.000Z', 'output', '{"stream":"stdout","text":"old"}');
                """)
        }
        try Migrator.migrate(partial.pool, path: tmp.dbPath, upTo: 13)
        let rows = try partial.pool.read { try Row.fetchAll($0, sql: "SELECT stdout_bytes, stderr_bytes, pty_bytes, output_capped FROM runs ORDER BY id") }
        #expect(rows.map { [$0[0], $0[1], $0[2], $0[3]] as [Int] } == [[4 + 3, 1, 2, 1], [0, 0, 0, 0]],
                "UTF-8 bytes of a text, decoded bytes of a b64, per stream; the cap from its notice; finished runs keep 0")
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
