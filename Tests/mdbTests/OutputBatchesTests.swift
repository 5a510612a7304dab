import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct OutputBatchesTests {
    private func batch(_ runId: Int64, _ worker: String, _ number: Int64, _ lines: [String]) -> OutputBatch {
        OutputBatch(runId: runId, workerId: worker, number: number, events: lines.map(output))
    }

    private func texts(_ db: MDatabase, _ runId: Int64) throws -> [String] {
        try db.events(runId: runId, afterSeq: 0, limit: 1000)
            .filter { $0.type == EventType.output }
            .map { $0.dataValue["text"]?.stringValue ?? "?" }
    }

    @Test func batchesOfSeveralRunsAreStoredInOneCallWithContiguousSeqs() throws {
        let (_, db) = try freshDatabase()
        let a = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        let b = try db.createRun(NewRun(spec: RunSpec(command: "b")))
        _ = try db.claimNextRun(workerId: "w")
        _ = try db.claimNextRun(workerId: "w")
        let outcomes = try db.appendOutputBatches([
            batch(a.id, "w", 1, ["a1", "a2"]), batch(b.id, "w", 1, ["b1"]), batch(a.id, "w", 2, ["a3"]),
        ])
        // run.created is seq 1 of each run.
        #expect(outcomes == [.stored(firstSeq: 2, lastSeq: 3), .stored(firstSeq: 2, lastSeq: 2), .stored(firstSeq: 4, lastSeq: 4)])
        #expect(try texts(db, a.id) == ["a1", "a2", "a3"])
        #expect(try texts(db, b.id) == ["b1"])
        #expect(try db.run(a.id).lastSeq == 4)
        #expect(try db.storedOutputBatch(runId: a.id) == 2)
        #expect(try db.storedOutputBatch(runId: b.id) == 1)
    }

    @Test func aResentBatchIsNotStoredTwice() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w")
        #expect(try db.appendOutputBatches([batch(run.id, "w", 1, ["one"])]) == [.stored(firstSeq: 2, lastSeq: 2)])
        // The writer committed batch 1 but its reply was lost: the executor sends it again (directly).
        #expect(try db.appendOutputBatches([batch(run.id, "w", 1, ["one"])]) == [.alreadyStored])
        #expect(try db.appendOutputBatches([batch(run.id, "w", 2, ["two"])]) == [.stored(firstSeq: 3, lastSeq: 3)])
        // A late, slower copy of batch 1 from a writer that was given up on.
        #expect(try db.appendOutputBatches([batch(run.id, "w", 1, ["one"])]) == [.alreadyStored])
        #expect(try texts(db, run.id) == ["one", "two"])
    }

    @Test func aBatchAfterAMissingOneIsNotStoredUntilTheGapIsFilled() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w")
        #expect(try db.appendOutputBatches([batch(run.id, "w", 1, ["one"])]) == [.stored(firstSeq: 2, lastSeq: 2)])
        // Batch 2 failed on the way; 3 must not overtake it.
        #expect(try db.appendOutputBatches([batch(run.id, "w", 3, ["three"])]) == [.outOfOrder(expected: 2)])
        #expect(try db.appendOutputBatches([batch(run.id, "w", 2, ["two"]), batch(run.id, "w", 3, ["three"])])
                == [.stored(firstSeq: 3, lastSeq: 3), .stored(firstSeq: 4, lastSeq: 4)])
        #expect(try texts(db, run.id) == ["one", "two", "three"])
    }

    @Test func aRefusedBatchLeavesTheOthersOfTheRoundStored() throws {
        let (_, db) = try freshDatabase()
        let held = try db.createRun(NewRun(spec: RunSpec(command: "held")))
        let taken = try db.createRun(NewRun(spec: RunSpec(command: "taken")))
        let done = try db.createRun(NewRun(spec: RunSpec(command: "done")))
        _ = try db.claimNextRun(workerId: "w")
        _ = try db.claimNextRun(workerId: "other")
        _ = try db.claimNextRun(workerId: "w")
        try db.finishRun(runId: done.id, status: .succeeded, exitCode: 0)
        let outcomes = try db.appendOutputBatches([
            batch(taken.id, "w", 1, ["not mine"]), batch(held.id, "w", 1, ["kept"]),
            batch(done.id, "w", 1, ["too late"]), batch(999, "w", 1, ["nowhere"]),
        ])
        #expect(outcomes == [
            .refused(.leaseLost(runId: taken.id, workerId: "w")), .stored(firstSeq: 2, lastSeq: 2),
            .refused(.runFinished(id: done.id, status: "succeeded")), .refused(.runNotFound(999)),
        ])
        #expect(try texts(db, held.id) == ["kept"])
        #expect(try texts(db, taken.id).isEmpty)
        #expect(try texts(db, done.id).isEmpty)
        #expect(try db.storedOutputBatch(runId: taken.id) == 0)
    }

    @Test func storedOutputAddsUpWhatEachBatchCountedAndRemembersTheCap() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w")
        #expect(try db.storedOutput(runId: run.id) == StoredOutput())
        _ = try db.appendOutputBatches([
            OutputBatch(runId: run.id, workerId: "w", number: 1, events: [output("héllo\n")], bytes: OutputCounts(stdout: 7)),
            OutputBatch(runId: run.id, workerId: "w", number: 2, events: [output("x")], bytes: OutputCounts(stdout: 1, stderr: 8)),
        ])
        #expect(try db.storedOutput(runId: run.id) == StoredOutput(bytes: OutputCounts(stdout: 8, stderr: 8)))
        // A refused batch (out of order) moves nothing.
        _ = try db.appendOutputBatches([OutputBatch(runId: run.id, workerId: "w", number: 9, events: [], bytes: OutputCounts(pty: 5))])
        let notice = NewEvent(EventType.notice, ["level": "warning", "text": "output cap of 10 bytes reached"])
        _ = try db.appendOutputBatches([OutputBatch(runId: run.id, workerId: "w", number: 3, events: [notice], capsOutput: true)])
        #expect(try db.storedOutput(runId: run.id) == StoredOutput(bytes: OutputCounts(stdout: 8, stderr: 8), capped: true))
    }

    @Test func theMigrationCountsTheOutputOfRunsStillGoing() throws {
        let tmp = TempDir()
        let partial = try MDatabase(path: tmp.dbPath, create: true, migrate: false)
        try Migrator.migrate(partial.pool, path: tmp.dbPath, upTo: 12)
        let going = try partial.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try partial.claimNextRun(workerId: "w")
        // Text counts its UTF-8 bytes; b64 the bytes it decodes to, whatever its padding.
        let events = [
            NewEvent(EventType.output, ["stream": "stdout", "text": "héllo\n"]),                   // 7 bytes
            NewEvent(EventType.output, ["stream": "stdout", "b64": .string(Data([0xFF]).base64EncodedString())]),
            NewEvent(EventType.output, ["stream": "stderr", "b64": .string(Data([0, 1]).base64EncodedString())]),
            NewEvent(EventType.output, ["stream": "stderr", "b64": .string(Data([0, 1, 2]).base64EncodedString())]),
            NewEvent(EventType.output, ["stream": "stderr", "text": "€"]),                          // 3 bytes
            NewEvent(EventType.notice, ["level": "warning", "text": "something else"]),
        ]
        try partial.append(runId: going.id, events)
        let capped = try partial.createRun(NewRun(spec: RunSpec(command: "b")))
        _ = try partial.claimNextRun(workerId: "w")
        try partial.append(runId: capped.id, [NewEvent(EventType.notice, ["level": "warning", "text": "output cap of 10 bytes reached: …"])])
        let db = try MDatabase(path: tmp.dbPath)
        #expect(try db.storedOutput(runId: going.id) == StoredOutput(bytes: OutputCounts(stdout: 8, stderr: 8)))
        #expect(try db.storedOutput(runId: capped.id) == StoredOutput(capped: true))
    }
}
