import Foundation
import GRDB
import mdb

/// Ingest through the append primitive (events/s at batch sizes 1, 16, 256)
/// against the floor: the same rows inserted into the same schema with a bare
/// prepared statement in the same batches, and by the `sqlite3` shell.
struct AppendBenchmark {
    let eventsPerBatchSize: Int
    let batchSizes = [1, 16, 256]

    func run() throws -> [BenchRow] {
        var rows: [BenchRow] = []
        for batch in batchSizes {
            // Batch size 1 is one transaction per event: fewer of them keep the run short.
            let count = batch == 1 ? eventsPerBatchSize / 5 : eventsPerBatchSize
            let m = try measureAppend(batch: batch, count: count)
            let raw = try measureRawInsert(batch: batch, count: count)
            rows.append(BenchRow(scenario: "append", metric: "events/s, batch \(batch)", m: m, baseline: raw,
                                 baselineName: "raw prepared INSERTs", unit: "ev/s"))
            if let shell = try measureShellInsert(batch: batch, count: count) {
                rows.append(BenchRow(scenario: "append", metric: "events/s, batch \(batch)", m: m, baseline: shell,
                                     baselineName: "sqlite3 shell INSERTs", unit: "ev/s"))
            }
        }
        return rows
    }

    /// The text of line `i`, as an agent would print it.
    static func line(_ i: Int) -> String { "line \(i): the quick brown fox jumps over the lazy dog\n" }

    private func freshDatabase() throws -> (String, MDatabase, Int64) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mbench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("m.db").path
        let db = try MDatabase(path: path, create: true)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "bench")))
        return (path, db, run.id)
    }

    private func measureAppend(batch: Int, count: Int) throws -> Double {
        let (path, db, runId) = try freshDatabase()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let start = DispatchTime.now().uptimeNanoseconds
        var i = 0
        while i < count {
            let n = min(batch, count - i)
            try db.append(runId: runId, (i..<(i + n)).map {
                NewEvent(EventType.output, .object([("stream", "stdout"), ("text", .string(AppendBenchmark.line($0)))]))
            })
            i += n
        }
        return Double(count) / seconds(since: start)
    }

    /// The ingest floor: `count` output rows inserted 256 per transaction by a bare prepared statement.
    func rawLinesPerSecond(count: Int) throws -> Double { try measureRawInsert(batch: 256, count: count) }

    private func measureRawInsert(batch: Int, count: Int) throws -> Double {
        let (path, db, runId) = try freshDatabase()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let start = DispatchTime.now().uptimeNanoseconds
        try db.pool.writeWithoutTransaction { conn in
            let insert = try conn.makeStatement(sql: "INSERT INTO events (run_id, seq, ts, type, data) VALUES (?, ?, ?, 'output', ?)")
            var i = 0
            while i < count {
                let n = min(batch, count - i)
                try conn.execute(sql: "BEGIN IMMEDIATE")
                for k in i..<(i + n) {
                    try insert.execute(arguments: [runId, k + 2, Timestamp.now(),
                                                   "{\"stream\":\"stdout\",\"text\":\"line \(k): the quick brown fox jumps over the lazy dog\\n\"}"])
                }
                try conn.execute(sql: "COMMIT")
                i += n
            }
        }
        return Double(count) / seconds(since: start)
    }

    /// The same rows through the `sqlite3` shell (parsing SQL text each time), if it is installed.
    private func measureShellInsert(batch: Int, count: Int) throws -> Double? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return nil }
        let (path, _, runId) = try freshDatabase()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        var sql = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;\n"
        var i = 0
        while i < count {
            let n = min(batch, count - i)
            sql += "BEGIN IMMEDIATE;\n"
            for k in i..<(i + n) {
                sql += "INSERT INTO events (run_id, seq, ts, type, data) VALUES (\(runId), \(k + 2), '\(Timestamp.now())', 'output', '{\"stream\":\"stdout\",\"text\":\"line \(k): the quick brown fox jumps over the lazy dog\\n\"}');\n"
            }
            sql += "COMMIT;\n"
            i += n
        }
        let script = path + ".sql"
        try sql.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: script))
        process.standardOutput = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        process.waitUntilExit()
        return Double(count) / seconds(since: start)
    }

    private func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// How long one `ChangeWatch.changed()` check costs (the idle poller's unit of work).
struct ChangeWatchCost {
    static func microsecondsPerCheck() throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mbench-cw-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.db").path
        _ = try MDatabase(path: path, create: true)
        let watch = try ChangeWatch(path: path)
        let n = 100_000
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { _ = try watch.changed() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(n)
    }
}
