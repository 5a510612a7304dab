import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct RequestWatchTests {
    @Test func itNamesWhatWaitsForEachRunAndChangesWhenSomethingNewComes() throws {
        let (tmp, db, run, other) = try twoClaimedRuns()
        defer { withExtendedLifetime(tmp) {} }
        let watch = try RequestWatch(path: db.path)
        #expect(try watch.waiting().isEmpty)

        let first = try db.queueInput(runId: run.id, text: "one")
        let request = try db.requestDiff(runId: other.id, by: "cli")
        #expect(try watch.waiting() == [run.id: .init(newestInput: first.id), other.id: .init(newestDiffRequest: request.id)])

        // A second input while the first is still undelivered changes the answer.
        let second = try db.queueInput(runId: run.id, text: "two")
        #expect(try watch.waiting()[run.id] == .init(newestInput: second.id))
        try db.markInputDelivered(inputId: first.id)
        try db.markInputDelivered(inputId: second.id)
        try db.finishDiffRequest(runId: other.id, requestId: request.id, notice: "nothing changed")
        #expect(try watch.waiting().isEmpty)

        _ = try db.requestCancel(runId: run.id)
        #expect(try watch.waiting() == [run.id: .init(cancel: true)])
    }

    @Test func aFinishedRunsCancelIsNotWaitingAnyMore() throws {
        let (tmp, db) = try freshDatabase()
        defer { withExtendedLifetime(tmp) {} }
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w")
        _ = try db.requestCancel(runId: run.id)
        let watch = try RequestWatch(path: db.path)
        #expect(try watch.waiting()[run.id]?.cancel == true)
        try db.finishRun(runId: run.id, status: .canceled, workerId: "w")
        #expect(try watch.waiting().isEmpty)
    }
}
