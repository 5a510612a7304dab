import Foundation
import GRDB
import MTestSupport
import Testing
import mdb

/// The ids in a JSON array of numbers.
func ids(_ value: JSONValue?) -> [Int64] {
    guard case .array(let items)? = value else { return [] }
    return items.compactMap(\.intValue)
}

@Suite struct GcTests {
    @Test func gcDeletesExactlyTheOldFinishedRunsWhileANewRunStreams() throws {
        let m = try LiveExec()
        try m.start()
        let old = try (1...3).map { try m.create("echo old \($0); mkdir -p sub && echo x > sub/file") }
        let recent = try m.create("echo recent")
        for id in old + [recent] { #expect(try m.finished(id).status == .succeeded) }
        let oldEvents = try old.map(m.eventCount).reduce(0, +)
        let oldWorkspaces = try old.map { try #require(try m.db.run($0).workspace) }
        #expect(oldWorkspaces.allSatisfy { FileManager.default.fileExists(atPath: $0 + "/sub/file") })
        try m.age(old)
        // A run that waits for a decision, made to look old too: never deleted.
        let waiting = try m.create("mcli ask 'keep me?'")
        #expect(try eventually(timeout: 30) { try m.db.run(waiting).status == .waitingApproval })
        try m.db.write { try $0.execute(sql: "UPDATE runs SET created_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", arguments: [waiting]) }
        // 20,000 lines over about 8 s: still streaming while gc runs.
        let streaming = try m.create("i=0; while [ $i -lt 20000 ]; do echo line $i; [ $((i % 500)) -eq 0 ] && sleep 0.2; i=$((i+1)); done; true")
        #expect(try eventually(timeout: 30) { try m.eventCount(streaming) > 3 })

        let gc = try Exec.run("mcli", ["gc", "--db", m.tmp.dbPath, "--older-than", "30d", "--json"])
        #expect(gc.status == 0, "\(gc.stderr)")
        let report = try JSONValue.parse(gc.stdout)
        #expect(report["runs"]?.intValue == 3)
        #expect(ids(report["run_ids"]) == old)
        #expect(report["events"]?.intValue == Int64(oldEvents))
        #expect((report["workspace_bytes"]?.intValue ?? 0) > 0)
        #expect(try m.db.run(streaming).status == .running, "gc ran while the run streamed")

        #expect(try m.finished(streaming).status == .succeeded)
        #expect(try m.stdoutLines(streaming) == (0..<20000).map { "line \($0)" }, "the stream lost nothing")
        let seqs = try m.db.read { try Int.fetchAll($0, sql: "SELECT seq FROM events WHERE run_id = ? ORDER BY seq", arguments: [streaming]) }
        #expect(seqs == Array(1...seqs.count), "no gap in the streaming run's seq")
        let left = try m.db.read { try Int64.fetchAll($0, sql: "SELECT id FROM runs ORDER BY id") }
        #expect(left == [recent, waiting, streaming])
        for table in ["events", "inputs", "approvals", "diffs"] {
            let rows = try m.db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table) WHERE run_id IN (\(old.map(String.init).joined(separator: ",")))") }
            #expect(rows == 0, "\(table) of deleted runs")
        }
        #expect(oldWorkspaces.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "their workspaces are gone")
        #expect(FileManager.default.fileExists(atPath: try #require(try m.db.run(recent).workspace)))
        #expect(try m.db.run(waiting).status == .waitingApproval)
    }

    @Test func dryRunChangesNoRowAndSaysWhatGcWillDelete() throws {
        let m = try LiveExec()
        try m.start()
        let runs = try (1...3).map { try m.create("echo run \($0)") }
        for id in runs { try m.finished(id) }
        try m.age(runs)
        m.stop()
        // Every row, as the sqlite3 shell dumps it. (Not the file's bytes: any open
        // by M's connections bumps header counters, a known effect noted on issue 19.)
        let dump = { try Exec.run("/usr/bin/sqlite3", [m.tmp.dbPath, ".dump"]).stdout }
        let before = try dump()
        let workspaces = try FileManager.default.contentsOfDirectory(atPath: m.workspaces)
        let dry = try Exec.run("mcli", ["gc", "--db", m.tmp.dbPath, "--older-than", "1d", "--keep-last", "1", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try dump() == before && before.contains("INSERT INTO runs"), "not a row changed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: m.workspaces) == workspaces, "no workspace removed")
        let planned = try JSONValue.parse(dry.stdout)
        #expect(planned["dry_run"]?.boolValue == true)
        #expect(ids(planned["run_ids"]) == Array(runs.dropLast()), "--keep-last 1 keeps the newest")
        let gc = try Exec.run("mcli", ["gc", "--db", m.tmp.dbPath, "--older-than", "1d", "--keep-last", "1", "--json"])
        #expect(gc.stderr.contains("gc: pruned") && gc.stderr.contains("runs=2"), "one log line for the journal: \(gc.stderr)")
        let real = try JSONValue.parse(gc.stdout)
        #expect(ids(real["run_ids"]) == ids(planned["run_ids"]) && real["events"]?.intValue == planned["events"]?.intValue)
        #expect(try m.db.read { try Int64.fetchAll($0, sql: "SELECT id FROM runs") } == [runs[2]])
    }

    @Test func vacuumGivesTheSpaceBackToTheDisk() throws {
        let m = try LiveExec()
        try m.start()
        let big = try m.create("i=0; while [ $i -lt 30000 ]; do echo some output line number $i; i=$((i+1)); done")
        try m.finished(big)
        try m.age([big])
        m.stop()
        let text = try Exec.run("mcli", ["gc", "--db", m.tmp.dbPath, "--older-than", "1d", "--vacuum", "--json"])
        let report = try JSONValue.parse(text.stdout)
        let before = try #require(report["file_bytes_before"]?.intValue), after = try #require(report["file_bytes_after"]?.intValue)
        #expect(after < before / 2, "the file shrank from \(before) to \(after) bytes")
    }

    @Test func aMistypedAgeIsRefusedWithTheUnitsToUse() throws {
        let tmp = TempDir("mcli-gc")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        let bad = try Exec.run("mcli", ["gc", "--db", tmp.dbPath, "--older-than", "30 days"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("s m h d w"))
        let nothing = try Exec.run("mcli", ["gc", "--db", tmp.dbPath, "--older-than", "30d"])
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing to delete"))
    }
}
