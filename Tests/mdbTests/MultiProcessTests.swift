import Foundation
import MTestSupport
import Testing
@testable import mdb

/// Starts `count` mstress processes at once and returns their outputs.
func race(_ count: Int, _ args: @escaping @Sendable (Int) -> [String]) throws -> [ProcessResult] {
    let results = LockedBox([ProcessResult?](repeating: nil, count: count))
    let errors = LockedBox([String]())
    DispatchQueue.concurrentPerform(iterations: count) { i in
        do {
            let r = try Exec.run("mstress", args(i))
            results.mutate { $0[i] = r }
        } catch {
            errors.mutate { $0.append("\(error)") }
        }
    }
    #expect(errors.get().isEmpty)
    return results.get().compactMap { $0 }
}

/// Real separate processes on one file: SQLite's locking, not ours, is what is tested.
@Suite(.serialized) struct MultiProcessTests {
    @Test func concurrentClaimersNeverClaimARunTwice() throws {
        let (tmp, db) = try freshDatabase()
        let total = 300
        for i in 0..<total { _ = try db.createRun(NewRun(spec: RunSpec(command: "echo \(i)"))) }
        // All claimers start at the same instant, once every process is up.
        let startMs = String(Int((Date().timeIntervalSince1970 + 2) * 1000))
        let results = try race(6) { ["claim", tmp.dbPath, "worker-\($0)", startMs] }
        #expect(results.allSatisfy { $0.status == 0 })
        let claimed = results.flatMap { $0.stdout.split(separator: "\n").map { Int64($0)! } }
        #expect(claimed.count == total)
        #expect(Set(claimed).count == total)
        // More than one process got work: they really raced.
        #expect(results.filter { !$0.stdout.isEmpty }.count > 1)
        #expect(try db.runs(limit: 1000, status: .queued).isEmpty)
        let owners = try db.read { try Int.fetchOne($0, sql: "SELECT count(DISTINCT worker_id) FROM runs") }
        #expect(owners == results.filter { !$0.stdout.isEmpty }.count)
    }

    @Test func racingClaimersTakeNoMoreRunsThanTheLimit() throws {
        let (tmp, db) = try freshDatabase()
        for i in 0..<60 { _ = try db.createRun(NewRun(spec: RunSpec(command: "echo \(i)"))) }
        let limit = 3
        try failWritesOverTheLimit(db, limit)
        let startMs = String(Int((Date().timeIntervalSince1970 + 2) * 1000))
        let results = try race(6) { ["claim", tmp.dbPath, "daemon-\($0)", startMs, String(limit)] }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        let claimed = results.flatMap { $0.stdout.split(separator: "\n").map { Int64($0)! } }
        #expect(claimed.count == limit, "six daemons, each told to run at most \(limit), claimed \(claimed.count)")
        #expect(try db.activeRunCount() == limit)
    }

    @Test func racingDaemonsNeverRunMoreThanTheirConcurrency() throws {
        let (tmp, db) = try freshDatabase()
        let total = 120, limit = 2
        for i in 0..<total { _ = try db.createRun(NewRun(spec: RunSpec(command: "echo \(i)"))) }
        try failWritesOverTheLimit(db, limit)
        let startMs = String(Int((Date().timeIntervalSince1970 + 2) * 1000))
        let results = try race(6) { ["claim-finish", tmp.dbPath, "daemon-\($0)", String(limit), startMs] }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        let claimed = results.flatMap { $0.stdout.split(separator: "\n").map { Int64($0)! } }
        #expect(claimed.count == total)
        #expect(Set(claimed).count == total)
        #expect(results.filter { !$0.stdout.isEmpty }.count > 1, "the daemons really raced")
        #expect(try db.runs(limit: 1000, status: .succeeded).count == total)
    }

    /// From now on any write that leaves more runs active than `limit` fails, and with it its claimer.
    private func failWritesOverTheLimit(_ db: MDatabase, _ limit: Int) throws {
        try db.write { db in
            try db.execute(sql: """
                CREATE TRIGGER test_over_the_limit AFTER UPDATE OF status ON runs
                WHEN (SELECT count(*) FROM runs WHERE status IN ('running', 'waiting_approval')) > \(limit)
                BEGIN SELECT RAISE(ABORT, 'more runs active than the limit'); END
                """)
        }
    }

    @Test func concurrentAppendersKeepEverySeqContiguous() throws {
        let (tmp, db) = try freshDatabase()
        let runs = try (0..<2).map { _ in try db.createRun(NewRun(spec: RunSpec(command: "x"))) }
        let perWriter = 1_500
        let writers = 6
        // Writers with different batch sizes, two runs, and a tailer that must see every row once.
        let expectedEvents = writers * perWriter + runs.count  // + run.created each
        let tailer = LockedBox<ProcessResult?>(nil)
        let tailDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            tailer.set(try? Exec.run("mstress", ["tail", tmp.dbPath, String(expectedEvents)]))
            tailDone.signal()
        }
        let results = try race(writers) { i in
            ["append", tmp.dbPath, String(runs[i % 2].id), String(perWriter), String([1, 7, 16, 64, 3, 256][i]), "w\(i)"]
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        for run in runs {
            let events = try db.read { try Event.fetchAll($0, sql: "SELECT * FROM events WHERE run_id = ? ORDER BY seq", arguments: [run.id]) }
            #expect(events.map(\.seq) == Array(1...Int64(events.count)))
            #expect(events.count == 1 + perWriter * writers / 2)
            #expect(try db.run(run.id).lastSeq == Int64(events.count))
            // Within a writer, its own events stay in the order it wrote them.
            for w in stride(from: Int(run.id - 1), to: writers, by: 2) {
                let mine = events.compactMap { e -> Int? in
                    let text = e.dataValue["text"]?.stringValue ?? ""
                    guard text.hasPrefix("w\(w) ") else { return nil }
                    return Int(text.dropFirst("w\(w) ".count).dropLast())
                }
                #expect(mine == Array(0..<perWriter))
            }
        }
        #expect(tailDone.wait(timeout: .now() + 120) == .success)
        let seen = try #require(tailer.get()).stdout.split(separator: "\n").map { Int64($0)! }
        let all = try db.read { try Int64.fetchAll($0, sql: "SELECT id FROM events ORDER BY id") }
        #expect(seen == all)
    }

    @Test func racingDecisionsOnOneApprovalHaveExactlyOneWinner() throws {
        let (tmp, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        for round in 0..<8 {
            let approval = try db.requestApproval(runId: run.id, NewApproval(title: "round \(round)"))
            let results = try race(4) { i in ["resolve", tmp.dbPath, String(approval.id), i % 2 == 0 ? "approve" : "reject"] }
            let outcomes = results.map { $0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }.sorted()
            #expect(outcomes == ["conflict", "conflict", "conflict", "won"], "\(results.map(\.stderr))")
            let resolvedEvents = try db.events(runId: run.id, afterSeq: 0).filter {
                $0.type == EventType.approvalResolved && $0.dataValue["approval_id"]?.intValue == approval.id
            }
            #expect(resolvedEvents.count == 1)
        }
    }
}
