import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct RunRequestsTests {
    @Test func itSeesEachKindOfRequestForItsRunOnly() throws {
        let (tmp, db, run, other) = try twoClaimedRuns()
        defer { withExtendedLifetime(tmp) {} }
        let nothing = RunRequests(status: .running, cancelRequested: false, diffRequests: [], inputs: [])
        #expect(try db.runRequests(runId: run.id, includeInputs: true) == nothing)

        _ = try db.queueInput(runId: other.id, text: "not for this run")
        _ = try db.requestDiff(runId: other.id, by: "cli")
        #expect(try db.runRequests(runId: run.id, includeInputs: true) == nothing)

        let input = try db.queueInput(runId: run.id, text: "hello")
        #expect(try db.runRequests(runId: run.id, includeInputs: true).inputs.map(\.id) == [input.id])
        #expect(try db.runRequests(runId: run.id, includeInputs: false).inputs.isEmpty, "inputs only when asked for")
        try db.markInputDelivered(inputId: input.id)
        #expect(try db.runRequests(runId: run.id, includeInputs: true) == nothing)

        let request = try db.requestDiff(runId: run.id, by: "cli")
        #expect(try db.runRequests(runId: run.id, includeInputs: false).diffRequests.map(\.id) == [request.id])
        try db.finishDiffRequest(runId: run.id, requestId: request.id, notice: "nothing changed")
        #expect(try db.runRequests(runId: run.id, includeInputs: true) == nothing)

        _ = try db.requestCancel(runId: run.id)
        #expect(try db.runRequests(runId: run.id, includeInputs: false).cancelRequested)
    }

    @Test func anUnknownRunIsAnError() throws {
        let (tmp, db) = try freshDatabase()
        defer { withExtendedLifetime(tmp) {} }
        #expect(throws: MDBError.runNotFound(42)) { try db.runRequests(runId: 42, includeInputs: true) }
    }
}
