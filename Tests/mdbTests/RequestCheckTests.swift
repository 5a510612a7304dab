import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct RequestCheckTests {
    @Test func itSeesEachKindOfRequestForItsRunOnlyAndAgreesWithTheFullRead() throws {
        let (tmp, db, run, other) = try twoClaimedRuns()
        defer { withExtendedLifetime(tmp) {} }
        let check = try RequestCheck(path: db.path, runId: run.id)
        let nothing = RequestCheck.Pending(cancel: false, input: false, diffRequest: false)
        #expect(try check.pending() == nothing)

        _ = try db.queueInput(runId: other.id, text: "not for this run")
        _ = try db.requestDiff(runId: other.id, by: "cli")
        #expect(try check.pending() == nothing)

        let input = try db.queueInput(runId: run.id, text: "hello")
        #expect(try check.pending() == .init(cancel: false, input: true, diffRequest: false))
        #expect(try db.runRequests(runId: run.id, includeInputs: true).inputs.map(\.id) == [input.id])
        try db.markInputDelivered(inputId: input.id)
        #expect(try check.pending() == nothing)

        let request = try db.requestDiff(runId: run.id, by: "cli")
        #expect(try check.pending() == .init(cancel: false, input: false, diffRequest: true))
        #expect(try db.runRequests(runId: run.id, includeInputs: false).diffRequests.map(\.id) == [request.id])
        try db.finishDiffRequest(runId: run.id, requestId: request.id, notice: "nothing changed")
        #expect(try check.pending() == nothing)

        _ = try db.requestCancel(runId: run.id)
        #expect(try check.pending() == .init(cancel: true, input: false, diffRequest: false))
        #expect(try db.runRequests(runId: run.id, includeInputs: false).cancelRequested)
    }

    @Test func anUnknownRunHasNothingWaiting() throws {
        let (tmp, db) = try freshDatabase()
        defer { withExtendedLifetime(tmp) {} }
        #expect(try RequestCheck(path: db.path, runId: 42).pending() == .init(cancel: false, input: false, diffRequest: false))
    }
}
