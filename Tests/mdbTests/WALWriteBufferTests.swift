import Foundation
import MTestSupport
import Testing
@testable import mdb

/// The VFS that writes a commit's WAL frames together, in mstress processes of
/// their own (its counts are per process) and read back by Python's SQLite,
/// which knows nothing of it.
@Suite struct WALWriteBufferTests {
    @Test func aCommitIsWrittenWithOneWritePer31PagesInsteadOfTwoPerPage() throws {
        let (tmp, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        let result = try Exec.run("mstress", ["walwrites", tmp.dbPath, String(run.id)])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map { Int($0)! } }
        #expect(rows.map { $0[0] } == [1, 8, 64])
        for row in rows {
            let (pages, asked, made, late) = (row[0], row[1], row[2], row[3])
            // Two writes per frame (header, page), for the output pages and the b-tree pages they touch.
            #expect(asked >= 2 * pages, "\(row)")
            #expect(made <= asked / 2 / 31 + 1, "a commit of \(asked / 2) frames took \(made) writes")
            #expect(late == 0, "the end of every commit was recognised before it was announced")
        }
        #expect(try readWithPython(tmp.dbPath, "SELECT count(*) FROM events WHERE run_id = \(run.id)") == "\(1 + 1 + 8 + 64)")
        #expect(try readWithPython(tmp.dbPath, "PRAGMA integrity_check") == "ok")
    }

    @Test func aCommitWhoseWriteFailsFailsAndLosesNothingCommittedBefore() throws {
        let (tmp, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        try db.append(runId: run.id, [NewEvent(EventType.output, ["stream": "stdout", "text": "kept\n"])])
        let result = try Exec.run("mstress", ["fill", tmp.dbPath, String(run.id)])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(lines) \(result.stderr)")
        #expect(lines.first == "before 2", "\(result.stderr)")
        #expect(lines.dropFirst().first?.hasPrefix("failed: ") == true, "a write past the file size limit fails the commit: \(lines) \(result.stderr)")
        #expect(lines.dropFirst(2).first == "after 2", "the failed commit stored nothing")
        #expect(lines.suffix(2) == ["stored", "finally 3"], "the next commit, with room, is stored")
        #expect(try readWithPython(tmp.dbPath, "SELECT count(*) FROM events WHERE run_id = \(run.id)") == "3")
        #expect(try readWithPython(tmp.dbPath, "PRAGMA integrity_check") == "ok")
    }

    /// One value read by another process through SQLite's own VFS.
    private func readWithPython(_ path: String, _ sql: String) throws -> String {
        let script = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])"
        let result = try Exec.run("/usr/bin/python3", ["-c", script, path, sql])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
