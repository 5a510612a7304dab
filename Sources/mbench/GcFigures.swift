import Foundation
import GRDB
import mdb

/// What `mcli gc` took in the loaded latency scenario with gc, and the seeding of what it deletes.
final class GcFigures: @unchecked Sendable {
    private let done = NSCondition()
    private var result: (seconds: Double, events: Int64, error: String?)?

    func finished(seconds: Double, events: Int64, error: String?) {
        done.withLock { result = (seconds, events, error); done.broadcast() }
    }

    var value: (seconds: Double, events: Int64, error: String?)? { done.withLock { result } }

    /// Waits until gc has finished, at most `timeout` seconds.
    func wait(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        done.withLock { while result == nil && done.wait(until: deadline) {} }
    }

    /// Stores 100 finished runs from 2000 holding `events` output events between them,
    /// in one transaction, as old history for gc to delete.
    static func seed(databasePath: String, events: Int) throws {
        let queue = try DatabaseQueue(path: databasePath)
        let perRun = events / 100
        try queue.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                INSERT INTO runs (title, status, created_at, finished_at, last_seq)
                SELECT 'gc seed', 'succeeded', '2000-01-01T00:00:00.000Z', '2000-01-01T00:00:01.000Z', ? FROM n
                """, arguments: [perRun])
            try db.execute(sql: """
                WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
                INSERT INTO events (run_id, seq, ts, type, data)
                SELECT runs.id, s.i, '2000-01-01T00:00:00.000Z', 'output',
                       '{"stream":"stdout","text":"an old line of output, about as long as an agent writes them\\n"}'
                FROM runs, s WHERE runs.title = 'gc seed'
                """, arguments: [perRun])
        }
        try queue.writeWithoutTransaction { _ = try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Waits until mweb's search indexer has indexed every event (old history
    /// is indexed long before gc deletes it; measuring gc while the index
    /// catches up with a million seeded lines would charge gc for the indexer).
    static func waitForSearchIndex(databasePath: String, timeout: Double) throws {
        let db = try MDatabase(path: databasePath, migrate: false)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try db.searchCursor() >= db.lastEventId() { return }
            usleep(100_000)
        }
        throw Cluster.SetupError(description: "the search index did not catch up with the seeded events within \(Int(timeout)) s")
    }
}
