import Foundation
import GRDB
import MTestSupport
import Testing
import mdb

@Suite struct BackupTests {
    @Test func aBackupTakenWhileTenRunsWriteHoldsEveryEventCommittedBeforeItStarted() throws {
        let m = try LiveExec()
        try m.start(concurrency: 10)
        // Each writes about 500 lines a second until the fixture cancels it at the end, so all ten
        // are writing during the backup however long a loaded machine takes to get there (ten
        // sandboxed starts can take half a minute while the rest of the suite runs beside them).
        let runs = try (1...10).map { _ in
            try m.create("i=0; while true; do echo line $i; [ $((i % 50)) -eq 0 ] && sleep 0.1; i=$((i+1)); done")
        }
        #expect(try eventually(timeout: 90) { try runs.allSatisfy { try m.eventCount($0) > 5 } }, "each run stored some output before the backup: more than 40 events in all")
        let before = try m.db.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM events") ?? 0 }
        let destination = m.tmp.file("backup.db")
        let backup = try Exec.run("mcli", ["backup", "--db", m.tmp.dbPath, destination, "--json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        // One line for the journal (stderr is not a terminal here), with the figures as metadata.
        #expect(backup.stderr.contains("backup: written") && backup.stderr.contains("last_event_id="), "\(backup.stderr)")
        let report = try JSONValue.parse(backup.stdout)
        #expect(report["integrity"]?.stringValue == "ok")
        #expect((report["last_event_id"]?.intValue ?? 0) >= before)
        #expect(!FileManager.default.fileExists(atPath: destination + "-wal"), "the copy stands alone")
        #expect(try runs.allSatisfy { try m.db.run($0).status == .running }, "the runs were writing all along")

        let copy = try DatabaseQueue(path: destination)
        let copied = try copy.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE id <= ?", arguments: [before]) }
        let source = try m.db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE id <= ?", arguments: [before]) }
        #expect(copied == source && (copied ?? 0) > 40, "every event committed before the backup began")
        let gaps = try copy.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM (SELECT run_id FROM events GROUP BY run_id HAVING max(seq) <> count(*))") }
        #expect(gaps == 0, "each run's events in the copy are 1…n without a gap")
        #expect(try copy.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } == ["ok"])
    }

    @Test func aBackupNeverOverwritesAFile() throws {
        let tmp = TempDir("mcli-backup")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        FileManager.default.createFile(atPath: tmp.file("taken.db"), contents: Data("precious".utf8))
        let result = try Exec.run("mcli", ["backup", "--db", tmp.dbPath, tmp.file("taken.db")])
        #expect(result.status == 2 && result.stderr.contains("exists already"))
        #expect(try String(contentsOfFile: tmp.file("taken.db"), encoding: .utf8) == "precious")
    }

    @Test func restoreRefusesALiveMAndPutsTheBackupInPlaceOfAStoppedOne() throws {
        let m = try LiveExec()
        try m.start()
        let kept = try m.create("echo in the backup")
        try m.finished(kept)
        let backup = m.tmp.file("backup.db")
        #expect(try Exec.run("mcli", ["backup", "--db", m.tmp.dbPath, backup]).status == 0)
        let later = try m.create("echo after the backup")
        try m.finished(later)

        let refused = try Exec.run("mcli", ["restore", "--db", m.tmp.dbPath, backup])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("M is running") && refused.stderr.contains("mexec"))
        m.stop()
        m.close()
        let restored = try Exec.run("mcli", ["restore", "--db", m.tmp.dbPath, backup])
        #expect(restored.status == 0, "\(restored.stderr)")
        let runs = try DatabaseQueue(path: m.tmp.dbPath).read { try Int64.fetchAll($0, sql: "SELECT id FROM runs") }
        #expect(runs == [kept], "the database is the backup's")
        let aside = try FileManager.default.contentsOfDirectory(atPath: m.tmp.path).filter { $0.contains(".before-restore-") }
        #expect(aside.contains { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }, "the previous database is kept")
    }

    @Test func restoreRefusesAFileThatIsNotASoundDatabase() throws {
        let tmp = TempDir("mcli-restore")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        let original = try Data(contentsOf: URL(fileURLWithPath: tmp.dbPath))
        FileManager.default.createFile(atPath: tmp.file("junk.db"), contents: Data(repeating: 0x41, count: 8192))
        let result = try Exec.run("mcli", ["restore", "--db", tmp.dbPath, tmp.file("junk.db")])
        #expect(result.status == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.dbPath)) == original, "nothing was changed")
    }

    /// A copy that fails half way (here: a file size limit) puts the previous database back.
    @Test func aRestoreThatCannotWriteTheCopyPutsThePreviousDatabaseBack() throws {
        let tmp = TempDir("mcli-restore-fail")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        #expect(try Exec.run("mcli", ["backup", "--db", tmp.dbPath, tmp.file("backup.db")]).status == 0)
        #expect(try Exec.run("mcli", ["token", "create", "--db", tmp.dbPath, "--name", "after-backup"]).status == 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: tmp.dbPath))
        #expect(((try? FileManager.default.attributesOfItem(atPath: tmp.file("backup.db"))[.size] as? Int) ?? 0) > 16 * 1024)
        // SIGXFSZ ignored (it stays ignored across exec): the write fails with EFBIG instead.
        let result = try Exec.run("/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 16; exec \"$0\" restore --db \"$1\" \"$2\"",
                                              Binaries.path("mcli"), tmp.dbPath, tmp.file("backup.db")])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("the previous database is back in place"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.dbPath)) == original, "the database is the one from before")
        let left = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
        #expect(!left.contains { $0.contains(".before-restore-") || $0.hasSuffix(".restoring") }, "\(left)")
    }
}
