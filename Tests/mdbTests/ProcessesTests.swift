import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct ProcessesTests {
    @Test func onlyTheLeaseHolderRecordsARunsProcesses() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "true")))
        _ = try db.claimNextRun(workerId: "daemon")
        #expect(try db.transferLease(runId: run.id, from: "daemon", to: "exec-1"))
        #expect(throws: MDBError.leaseLost(runId: run.id, workerId: "daemon")) {
            try db.recordAgent(runId: run.id, workerId: "daemon", pid: 10, pgid: 10, startTicks: 5)
        }
        try db.recordExecutor(runId: run.id, workerId: "exec-1", pid: 9, startTicks: 4)
        try db.recordAgent(runId: run.id, workerId: "exec-1", pid: 10, pgid: 10, startTicks: 5)
        #expect(try db.processes(runId: run.id) == RunProcesses(runId: run.id, executorPid: 9, executorStartTicks: 4,
                                                                 agentPid: 10, agentPgid: 10, agentStartTicks: 5))
        #expect(throws: MDBError.runNotFound(999)) { _ = try db.processes(runId: 999) }
    }

    @Test func activeRunsAreTheClaimedUnfinishedOnes() throws {
        let (_, db) = try freshDatabase()
        let a = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.createRun(NewRun(spec: RunSpec(command: "b")))
        #expect(try db.activeRunCount() == 0)
        _ = try db.claimNextRun(workerId: "w")
        #expect(try db.activeRunCount() == 1)
        _ = try db.requestApproval(runId: a.id, NewApproval(title: "ok?"))
        #expect(try db.activeRunCount() == 1, "waiting for approval still occupies a slot")
        try db.finishRun(runId: a.id, status: .succeeded, exitCode: 0)
        #expect(try db.activeRunCount() == 0)
    }
}
