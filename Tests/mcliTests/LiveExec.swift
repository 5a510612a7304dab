import Foundation
import MTestSupport
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// A temporary database with a real `mexec` on it, for the operations commands'
/// tests (gc, backup, restore), which must hold while M works.
final class LiveExec: @unchecked Sendable {
    let tmp = TempDir("mcli-ops")
    /// The test's own connection; `close()` lets go of the file (a restore needs that).
    private(set) var db: MDatabase!
    private(set) var daemon: Process?
    var workspaces: String { tmp.file("workspaces") }

    init() throws {
        db = try MDatabase(path: tmp.dbPath, create: true)
    }

    deinit {
        // Cancelled runs end only while a daemon stores their last output (an executor
        // without one waits for it to come back), so mexec stops after they have ended.
        let open = ((try? db?.runs(limit: 200)) ?? []).filter { !$0.status.isFinished }.map(\.id)
        for id in open { _ = try? db.requestCancel(runId: id) }
        _ = eventually(timeout: 30) { open.allSatisfy { (try? self.db?.run($0).status.isFinished) ?? true } }
        stop()
    }

    /// Starts mexec with `concurrency` runs at once.
    func start(concurrency: Int = 8) throws {
        daemon = try Exec.start("mexec", ["--db", tmp.dbPath, "--workspaces", workspaces, "--concurrency", String(concurrency)])
    }

    /// Closes the test's connection to the database.
    func close() { db = nil }

    /// Stops mexec (SIGTERM) and waits for it.
    func stop() {
        guard let daemon, daemon.isRunning else { return }
        kill(daemon.processIdentifier, SIGTERM)
        _ = eventually(timeout: 15) { !daemon.isRunning }
    }

    /// Queues a shell command as a run.
    func create(_ command: String) throws -> Int64 {
        try db.createRun(NewRun(title: "ops test", spec: RunSpec(command: command))).id
    }

    /// Waits until the run has finished; its row.
    @discardableResult
    func finished(_ runId: Int64, timeout: Double = 60) throws -> Run {
        _ = try eventually(timeout: timeout, interval: 0.02) { try db.run(runId).status.isFinished }
        return try db.run(runId)
    }

    /// How many events the run stored.
    func eventCount(_ runId: Int64) throws -> Int {
        try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE run_id = ?", arguments: [runId]) ?? 0 }
    }

    /// Makes finished runs look as if they finished in 2000.
    func age(_ runIds: [Int64]) throws {
        try db.write { db in
            for id in runIds {
                try db.execute(sql: "UPDATE runs SET finished_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", arguments: [id])
            }
        }
    }

    /// The lines a run printed on stdout, in order.
    func stdoutLines(_ runId: Int64) throws -> [String] {
        let texts = try db.read {
            try String.fetchAll($0, sql: """
                SELECT json_extract(data, '$.text') FROM events
                WHERE run_id = ? AND type = 'output' AND json_extract(data, '$.stream') = 'stdout' ORDER BY seq
                """, arguments: [runId])
        }
        return texts.joined().split(separator: "\n").map(String.init)
    }
}
