import Foundation
import GRDB
import MTestSupport
import Testing
@testable import mdb

@Suite struct MDatabaseTests {
    @Test func openingSetsWALForeignKeysAndNormalSync() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let (mode, foreignKeys, sync) = try db.read { conn in
            (try String.fetchOne(conn, sql: "PRAGMA journal_mode"), try Int.fetchOne(conn, sql: "PRAGMA foreign_keys"),
             try Int.fetchOne(conn, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(foreignKeys == 1)
        #expect(sync == 1)
    }

    @Test func durableWritesUseFullSyncAndRestoreNormal() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let during = try db.write(.full) { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        let after = try db.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(during == 2)
        #expect(after == 1)
    }

    @Test func aMissingDatabaseIsNotCreatedByAccident() throws {
        let tmp = TempDir()
        #expect(throws: MDBError.databaseMissing(path: tmp.dbPath)) { _ = try MDatabase(path: tmp.dbPath) }
        #expect(!FileManager.default.fileExists(atPath: tmp.dbPath))
    }

    @Test func aCorruptFileIsRefusedWithoutBeingChanged() throws {
        let tmp = TempDir()
        let garbage = Data(repeating: 0x42, count: 8192)
        FileManager.default.createFile(atPath: tmp.dbPath, contents: garbage)
        do {
            _ = try MDatabase(path: tmp.dbPath)
            Issue.record("a corrupt file was opened")
        } catch let error as MDBError {
            guard case .notADatabase = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("not a usable M database"))
        }
        #expect(FileManager.default.contents(atPath: tmp.dbPath) == garbage)
    }

    @Test func backupIsAConsistentCopy() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "true")))
        try db.backup(to: tmp.file("copy.db"))
        let copy = try MDatabase(path: tmp.file("copy.db"))
        #expect(try copy.run(run.id).id == run.id)
        #expect(try copy.events(runId: run.id, afterSeq: 0).count == 1)
    }
}
