import Foundation
import GRDB
import GRDBSQLite
import MProcess
import MTestSupport
import Testing
@testable import mdb
#if canImport(Glibc)
import Glibc
#endif

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

    /// A transaction that spilled SQLite's cache ends by rewriting the headers of the frames
    /// it spilled, the commit frame's last, with no page after it: the write that used to be
    /// left for the shared-memory barrier, where a failure could only abort the process.
    @Test func aCommitEndingInRewrittenFrameHeadersFailsCleanlyWhenTheirWriteFails() throws {
        let (tmp, db) = try freshDatabase()
        try createCrashTables(db)
        let result = try Exec.run("mstress", ["rewrite", tmp.dbPath])
        #expect(result.status == 0, "the process goes on: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(lines) \(result.stderr)")
        #expect(lines.first.map { $0.hasPrefix("stored 1 ") && !$0.hasSuffix(" 0") } == true,
                "the batch ended by rewriting its commit frame's header: \(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("failed: ") == true, "the rewritten header's failed write fails the commit: \(lines)")
        #expect(lines.dropFirst(2).first?.hasPrefix("stored 3 ") == true, "the next commit is stored: \(lines)")
        #expect(lines.suffix(2) == ["batches [1, 3]", "late 0"])
        #expect(try readWithPython(tmp.dbPath, "SELECT group_concat(id) FROM crash_batches") == "1,3")
        #expect(try readWithPython(tmp.dbPath, "SELECT count(*) FROM crash_rows") == "80")
        #expect(try readWithPython(tmp.dbPath, "PRAGMA integrity_check") == "ok")
    }

    @Test func onlyAConnectionThatAsksForItWritesThroughTheBuffer() throws {
        let (tmp, db) = try freshDatabase()
        let buffered = try MDatabase(path: tmp.dbPath, walWriteBuffer: true)
        #expect(try vfsName(db) == "unix")
        #expect(try vfsName(buffered) == "\(WALWriteBuffer.vfsName)/unix")
        let run = try buffered.createRun(NewRun(spec: RunSpec(command: "x")))
        #expect(try db.run(run.id).id == run.id, "both see the same file")
    }

    @Test func aPathWithURICharactersOpensTheSameFileThroughTheBuffer() throws {
        let tmp = TempDir()
        let folder = tmp.file("a?b#c%20d")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/m.db"
        let buffered = try MDatabase(path: path, create: true, walWriteBuffer: true)
        #expect(try vfsName(buffered) == "\(WALWriteBuffer.vfsName)/unix")
        _ = try buffered.createRun(NewRun(spec: RunSpec(command: "x")))
        #expect(try MDatabase(path: path).runs().count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["m.db", "m.db-shm", "m.db-wal"])
    }

    /// A process committing through the buffer is SIGKILLed at 200 random points;
    /// after each kill the file is intact and holds every batch whose COMMIT had returned.
    @Test func killedMidCommitTwoHundredTimesTheFileHoldsEveryAcknowledgedBatch() throws {
        let (tmp, db) = try freshDatabase()
        try createCrashTables(db)
        var acknowledged: Int64 = 0
        var rng = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let pipe = try Spawn.pipe()
            let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            let pid = try Spawn.start([Binaries.path("mstress"), "commits", tmp.dbPath], environment: [:], directory: nil,
                                      stdio: .descriptors(devNull, pipe.write, 2), group: .parents)
            close(pipe.write)
            close(devNull)
            let lines = LineReader(fd: pipe.read)
            defer { close(pipe.read) }
            // Kill it after 0–6 acknowledged batches (0: while it opens the database), a few
            // hundred microseconds into the next one at most.
            let wanted = Int.random(in: 0...6, using: &rng)
            for _ in 0..<wanted {
                guard let line = lines.next(timeout: 10) else {
                    Issue.record("round \(round): the committer stopped acknowledging after batch \(acknowledged)")
                    kill(pid, SIGKILL)
                    _ = Spawn.wait(pid)
                    return
                }
                // A batch committed by a process killed before it printed the number is skipped.
                #expect((Int64(line) ?? 0) > acknowledged, "round \(round): batches are acknowledged in order")
                acknowledged = Int64(line) ?? acknowledged
            }
            usleep(UInt32.random(in: 0...400, using: &rng))
            kill(pid, SIGKILL)
            _ = Spawn.wait(pid)
            // What it printed before it died was acknowledged too.
            while let line = lines.next(timeout: 0) { acknowledged = Int64(line) ?? acknowledged }
            let (check, stored, incomplete) = try db.read { db in
                (try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                 try Int64.fetchOne(db, sql: "SELECT count(*) FROM crash_batches WHERE id <= ?", arguments: [acknowledged]),
                 try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM crash_batches b
                    WHERE rows != (SELECT count(*) FROM crash_rows r WHERE r.batch = b.id)
                    """))
            }
            #expect(check == "ok", "round \(round)")
            #expect(stored == acknowledged, "round \(round): \(acknowledged) batches acknowledged, \(stored ?? 0) stored")
            #expect(incomplete == 0, "round \(round): a batch is stored whole or not at all")
            if check != "ok" || stored != acknowledged { return }
        }
        #expect(acknowledged > 200, "the committer got work done between kills")
        #expect(try readWithPython(tmp.dbPath, "PRAGMA integrity_check") == "ok")
    }

    /// The tables mstress's `commits` and `rewrite` fill.
    private func createCrashTables(_ db: MDatabase) throws {
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE crash_batches (id INTEGER PRIMARY KEY, rows INTEGER NOT NULL);
                CREATE TABLE crash_rows (batch INTEGER NOT NULL, n INTEGER NOT NULL, body BLOB NOT NULL);
                CREATE INDEX crash_rows_by_batch ON crash_rows (batch);
                """)
        }
    }

    /// The VFS a connection of `db` opened its main database file with.
    private func vfsName(_ db: MDatabase) throws -> String? {
        try db.read { db in
            var name: UnsafeMutablePointer<CChar>?
            guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_VFSNAME, &name) == SQLITE_OK,
                  let name else { return nil }
            defer { sqlite3_free(name) }
            return String(cString: name)
        }
    }

    /// One value read by another process through SQLite's own VFS.
    private func readWithPython(_ path: String, _ sql: String) throws -> String {
        let script = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])"
        let result = try Exec.run("/usr/bin/python3", ["-c", script, path, sql])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Lines from a pipe, each waited for with a deadline.
private final class LineReader {
    private let fd: Int32
    private var pending: [UInt8] = []
    private var ended = false

    init(fd: Int32) { self.fd = fd }

    /// The next line, or nil if none came within `timeout` seconds or the pipe ended.
    func next(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = pending.firstIndex(of: 0x0a) {
                defer { pending.removeSubrange(...newline) }
                return String(decoding: pending[..<newline], as: UTF8.self)
            }
            if ended { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let waitMs = max(0, Int32(deadline.timeIntervalSinceNow * 1000))
            guard poll(&pfd, 1, waitMs) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { pending += chunk[0..<n] } else if n == 0 || errno != EINTR { ended = true }
        }
    }
}
