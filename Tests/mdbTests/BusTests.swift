import Foundation
import GRDB
import MTestSupport
import Testing
@testable import mdb

/// A fresh database in a temporary folder.
func freshDatabase() throws -> (TempDir, MDatabase) {
    let tmp = TempDir()
    return (tmp, try MDatabase(path: tmp.dbPath, create: true))
}

/// A fresh database with two runs, both claimed (running) by worker "w".
func twoClaimedRuns() throws -> (TempDir, MDatabase, Run, Run) {
    let (tmp, db) = try freshDatabase()
    let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
    let other = try db.createRun(NewRun(spec: RunSpec(command: "b")))
    _ = try db.claimNextRun(workerId: "w")
    _ = try db.claimNextRun(workerId: "w")
    return (tmp, db, run, other)
}

func output(_ text: String) -> NewEvent { NewEvent(EventType.output, ["stream": "stdout", "text": .string(text)]) }

@Suite struct RunLifecycleTests {
    @Test func creatingARunQueuesItWithRunCreated() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(title: "t", spec: RunSpec(command: "echo hi")))
        #expect(run.status == .queued)
        #expect(run.lastSeq == 1)
        let events = try db.events(runId: run.id, afterSeq: 0)
        #expect(events.map(\.type) == [EventType.runCreated])
        #expect(events[0].seq == 1)
        #expect(run.parsedSpec.command == "echo hi")
    }

    @Test func invalidRunRequestsAreRefusedAndNothingIsWritten() throws {
        let (_, db) = try freshDatabase()
        let bad: [NewRun] = [
            NewRun(spec: RunSpec()),
            NewRun(agent: "bogus", spec: RunSpec(command: "x")),
            NewRun(spec: RunSpec(command: "x", argv: ["x"])),
            NewRun(spec: RunSpec(command: "x"), repoUrl: "--upload-pack=evil"),
            NewRun(spec: RunSpec(command: "x"), repoUrl: "/tmp/repo", repoRef: "-b"),
        ]
        for new in bad {
            #expect(throws: MDBError.self) { _ = try db.createRun(new) }
        }
        #expect(try db.runs().isEmpty)
    }

    @Test func appendKeepsSeqContiguousAndLastSeqInStep() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        let first = try db.append(runId: run.id, (0..<5).map { output("\($0)") })
        let second = try db.append(runId: run.id, [output("5")])
        #expect(first.map(\.seq) == [2, 3, 4, 5, 6])
        #expect(second.map(\.seq) == [7])
        #expect(try db.run(run.id).lastSeq == 7)
        let stored = try db.events(runId: run.id, afterSeq: 0)
        #expect(stored.map(\.seq) == Array(1...7))
        #expect(stored.map(\.id) == stored.map(\.id).sorted())
        #expect(try db.events(runId: run.id, afterSeq: 5).map(\.seq) == [6, 7])
    }

    @Test func appendingToAnUnknownOrFinishedRunFails() throws {
        let (_, db) = try freshDatabase()
        #expect(throws: MDBError.runNotFound(42)) { try db.append(runId: 42, [output("x")]) }
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
        #expect(throws: MDBError.runFinished(id: run.id, status: "succeeded")) { try db.append(runId: run.id, [output("x")]) }
    }

    @Test func wireJSONEmbedsDataAsStored() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        let event = try db.append(runId: run.id, [output("a \"quoted\"\nline\u{1}")])[0]
        let parsed = try JSONValue.parse(event.wireJSON)
        #expect(parsed["seq"]?.intValue == 2)
        #expect(parsed["run_id"]?.intValue == run.id)
        #expect(parsed["type"]?.stringValue == "output")
        #expect(parsed["data"]?["text"]?.stringValue == "a \"quoted\"\nline\u{1}")
    }

    @Test func claimingTakesTheOldestQueuedRunWithALease() throws {
        let (_, db) = try freshDatabase()
        let a = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        let b = try db.createRun(NewRun(spec: RunSpec(command: "b")))
        let claimed = try #require(try db.claimNextRun(workerId: "w1"))
        #expect(claimed.id == a.id)
        #expect(claimed.status == .running)
        #expect(claimed.workerId == "w1")
        #expect(claimed.leaseExpiresAt != nil)
        #expect(try db.claimNextRun(workerId: "w2")?.id == b.id)
        #expect(try db.claimNextRun(workerId: "w3") == nil)
    }

    @Test func aClaimStopsAtTheLimitOfActiveRuns() throws {
        let (_, db) = try freshDatabase()
        for i in 0..<3 { _ = try db.createRun(NewRun(spec: RunSpec(command: "echo \(i)"))) }
        let first = try #require(try db.claimNextRun(workerId: "a", activeLimit: 2))
        _ = try db.requestApproval(runId: first.id, NewApproval(title: "ok?"))
        #expect(try db.claimNextRun(workerId: "b", activeLimit: 2) != nil)
        #expect(try db.claimNextRun(workerId: "c", activeLimit: 2) == nil, "a run waiting for approval holds its slot")
        try db.finishRun(runId: first.id, status: .succeeded, exitCode: 0)
        #expect(try db.claimNextRun(workerId: "c", activeLimit: 2) != nil)
    }

    @Test func aLeaseCanOnlyBeRenewedByItsHolder() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w1")
        #expect(try db.renewLease(runId: run.id, workerId: "w1"))
        #expect(try !db.renewLease(runId: run.id, workerId: "w2"))
        #expect(throws: MDBError.leaseLost(runId: run.id, workerId: "w2")) {
            try db.append(runId: run.id, [output("x")], workerId: "w2")
        }
        #expect(try db.transferLease(runId: run.id, from: "w1", to: "exec-1"))
        #expect(try !db.renewLease(runId: run.id, workerId: "w1"))
        #expect(try db.renewLease(runId: run.id, workerId: "exec-1"))
    }

    @Test func anExpiredLeaseMakesTheRunLost() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w1", leaseSeconds: -1)
        let approval = try db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
        #expect(try db.runsWithExpiredLease().map(\.id) == [run.id])
        #expect(try db.markLostIfExpired(runId: run.id, reason: "worker w1 stopped heartbeating"))
        let lost = try db.run(run.id)
        #expect(lost.status == .lost)
        #expect(try db.approval(approval.id).status == .canceled)
        let types = try db.events(runId: run.id, afterSeq: 0).map(\.type)
        #expect(types.suffix(3) == [EventType.notice, EventType.approvalResolved, EventType.runFinished])
        #expect(try !db.markLostIfExpired(runId: run.id, reason: "again"))
        #expect(try !db.renewLease(runId: run.id, workerId: "w1"))
    }

    @Test func aFreshLeaseIsNotDeclaredLost() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w1")
        #expect(try db.runsWithExpiredLease().isEmpty)
        #expect(try !db.markLostIfExpired(runId: run.id, reason: "x"))
        #expect(try db.run(run.id).status == .running)
    }

    @Test func finishingRecordsStatusExitCodeAndLastEvent() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w1")
        try db.finishRun(runId: run.id, status: .failed, exitCode: 3, workerId: "w1")
        let finished = try db.run(run.id)
        #expect(finished.status == .failed)
        #expect(finished.exitCode == 3)
        #expect(finished.finishedAt != nil)
        let last = try #require(try db.events(runId: run.id, afterSeq: 0).last)
        #expect(last.type == EventType.runFinished)
        #expect(last.dataValue["exit_code"]?.intValue == 3)
        #expect(last.dataValue["status"]?.stringValue == "failed")
        #expect(throws: MDBError.runFinished(id: run.id, status: "failed")) {
            try db.finishRun(runId: run.id, status: .succeeded)
        }
    }
}

@Suite struct InputTests {
    @Test func inputIsQueuedThenDeliveredOnceWithItsEvent() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "cat")))
        let input = try db.queueInput(runId: run.id, text: "hello", newline: false, source: "api")
        #expect(try db.pendingInputs(runId: run.id).map(\.id) == [input.id])
        let event = try #require(try db.markInputDelivered(inputId: input.id))
        #expect(event.type == EventType.input)
        #expect(event.dataValue["text"]?.stringValue == "hello")
        #expect(event.dataValue["source"]?.stringValue == "api")
        #expect(event.dataValue["newline"]?.boolValue == false)
        #expect(try db.markInputDelivered(inputId: input.id) == nil)
        #expect(try db.pendingInputs(runId: run.id).isEmpty)
    }

    @Test func inputToAFinishedRunIsRefused() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "cat")))
        try db.requestCancel(runId: run.id)
        #expect(throws: MDBError.runFinished(id: run.id, status: "canceled")) {
            _ = try db.queueInput(runId: run.id, text: "late")
        }
        #expect(throws: MDBError.runNotFound(999)) { _ = try db.queueInput(runId: 999, text: "x") }
    }
}

@Suite struct ApprovalTests {
    @Test func requestingAnApprovalBlocksTheRunUntilResolved() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let approval = try db.requestApproval(runId: run.id, NewApproval(kind: "command", title: "rm -rf build", body: "clean"))
        #expect(approval.status == .pending)
        #expect(try db.run(run.id).status == .waitingApproval)
        #expect(try db.approvals(status: .pending).map(\.id) == [approval.id])
        let requested = try #require(try db.events(runId: run.id, afterSeq: 0).last)
        #expect(requested.type == EventType.approvalRequested)
        #expect(requested.dataValue["approval_id"]?.intValue == approval.id)

        let resolved = try db.resolveApproval(id: approval.id, decision: .approve, by: "test", note: "go")
        #expect(resolved.status == .approved)
        #expect(resolved.note == "go")
        #expect(try db.run(run.id).status == .running)
        let event = try #require(try db.events(runId: run.id, afterSeq: 0).last)
        #expect(event.type == EventType.approvalResolved)
        #expect(event.dataValue["decision"]?.stringValue == "approved")
        #expect(event.dataValue["by"]?.stringValue == "test")
    }

    @Test func approvingTwiceIsAConflictAndTheFirstDecisionStands() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let approval = try db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
        _ = try db.resolveApproval(id: approval.id, decision: .reject, by: "a", note: "no")
        #expect(throws: MDBError.approvalAlreadyResolved(id: approval.id, status: "rejected")) {
            _ = try db.resolveApproval(id: approval.id, decision: .approve, by: "b")
        }
        #expect(try db.approval(approval.id).resolvedBy == "a")
        #expect(try db.events(runId: run.id, afterSeq: 0).filter { $0.type == EventType.approvalResolved }.count == 1)
        #expect(throws: MDBError.approvalNotFound(77)) { _ = try db.resolveApproval(id: 77, decision: .approve, by: "x") }
    }

    @Test func theRunWaitsWhileAnyApprovalIsPending() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let a = try db.requestApproval(runId: run.id, NewApproval(title: "a"))
        let b = try db.requestApproval(runId: run.id, NewApproval(title: "b"))
        _ = try db.resolveApproval(id: a.id, decision: .approve, by: "t")
        #expect(try db.run(run.id).status == .waitingApproval)
        _ = try db.resolveApproval(id: b.id, decision: .approve, by: "t")
        #expect(try db.run(run.id).status == .running)
    }

    @Test func expiredApprovalsAreMarkedAndTheRunResumes() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let a = try db.requestApproval(runId: run.id, NewApproval(title: "a", expiresInSeconds: -1))
        let b = try db.requestApproval(runId: run.id, NewApproval(title: "b", expiresInSeconds: 3600))
        #expect(try db.expireApprovals().map(\.id) == [a.id])
        #expect(try db.approval(a.id).status == .expired)
        #expect(try db.approval(b.id).status == .pending)
        #expect(throws: MDBError.approvalAlreadyResolved(id: a.id, status: "expired")) {
            _ = try db.resolveApproval(id: a.id, decision: .approve, by: "late")
        }
    }

    @Test func anExpiryIsASystemResolutionThatRejectsUnlessTheSpecApproves() throws {
        let (_, db) = try freshDatabase()
        let strict = try db.createRun(NewRun(spec: RunSpec(command: "x", approvals: ApprovalPolicy(timeoutSeconds: 600))))
        let lenient = try db.createRun(NewRun(spec: RunSpec(command: "y", approvals: ApprovalPolicy(onExpiry: "approve"))))
        _ = try db.claimNextRun(workerId: "w")
        _ = try db.claimNextRun(workerId: "w")
        // The run's default wait applies when the request names none; a request's own wins.
        let defaulted = try db.requestApproval(runId: strict.id, NewApproval(title: "default wait"))
        let expiresAt = try #require(defaulted.expiresAt)
        let expiresIn = try #require(Timestamp.parse(expiresAt)) - (try #require(Timestamp.parse(defaulted.createdAt)))
        #expect(abs(expiresIn - 600) < 1)
        let rejected = try db.requestApproval(runId: strict.id, NewApproval(title: "a", expiresInSeconds: -1))
        let approved = try db.requestApproval(runId: lenient.id, NewApproval(title: "b", expiresInSeconds: -1))
        let never = try db.requestApproval(runId: lenient.id, NewApproval(title: "c"))
        #expect(never.expiresAt == nil)

        #expect(try db.expireApprovals().map(\.id) == [rejected.id, approved.id])
        #expect(try db.approval(rejected.id).status == .expired)
        let yes = try db.approval(approved.id)
        #expect(yes.status == .approved && yes.resolvedBy == "system" && yes.note == MDatabase.approvedOnExpiryNote)
        for (run, id, decision) in [(strict, rejected.id, "expired"), (lenient, approved.id, "approved")] {
            let event = try #require(try db.events(runId: run.id, afterSeq: 0).last { $0.type == EventType.approvalResolved })
            #expect(event.dataValue["approval_id"]?.intValue == id)
            #expect(event.dataValue["decision"]?.stringValue == decision)
            #expect(event.dataValue["by"]?.stringValue == "system")
        }
        #expect(throws: MDBError.self) {
            _ = try db.createRun(NewRun(spec: RunSpec(command: "z", approvals: ApprovalPolicy(onExpiry: "maybe"))))
        }
        #expect(throws: MDBError.self) {
            _ = try db.createRun(NewRun(spec: RunSpec(command: "z", approvals: ApprovalPolicy(timeoutSeconds: 0))))
        }
    }
}

@Suite struct CancelTests {
    @Test func cancelingAQueuedRunEndsItAtOnce() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        let canceled = try db.requestCancel(runId: run.id)
        #expect(canceled.status == .canceled)
        #expect(try db.claimNextRun(workerId: "w") == nil)
        #expect(try db.events(runId: run.id, afterSeq: 0).map(\.type) ==
                [EventType.runCreated, EventType.cancelRequested, EventType.runFinished])
    }

    @Test func cancelingARunningRunIsRecordedOnce() throws {
        let (_, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let first = try db.requestCancel(runId: run.id)
        let second = try db.requestCancel(runId: run.id)
        #expect(first.status == .running)
        #expect(first.cancelRequestedAt != nil)
        #expect(second.cancelRequestedAt == first.cancelRequestedAt)
        #expect(try db.events(runId: run.id, afterSeq: 0).filter { $0.type == EventType.cancelRequested }.count == 1)
        try db.finishRun(runId: run.id, status: .canceled, signal: 15)
        #expect(throws: MDBError.runFinished(id: run.id, status: "canceled")) { try db.requestCancel(runId: run.id) }
    }
}

@Suite struct ChangeWatchTests {
    @Test func aCommitFromAnotherConnectionIsSeen() throws {
        let (tmp, db) = try freshDatabase()
        let watch = try ChangeWatch(path: tmp.dbPath)
        _ = try watch.changed()
        #expect(try !watch.changed())
        _ = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        #expect(try watch.changed())
        #expect(try !watch.changed())
    }
}

@Suite struct ChangeWaitTests {
    @Test func waitingWakesPromptlyOnACommitFromAnotherProcess() throws {
        let (tmp, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        let watch = try ChangeWatch(path: tmp.dbPath)
        _ = try watch.changed()
        let woke = LockedBox<Double?>(nil)
        let done = DispatchSemaphore(value: 0)
        let start = Date()
        DispatchQueue.global().async {
            if (try? watch.waitForChange(timeout: 20)) == true { woke.set(Date().timeIntervalSince(start)) }
            done.signal()
        }
        // Another process commits: the waiter must wake long before its timeout.
        usleep(50_000)
        let r = try Exec.run("mstress", ["append", tmp.dbPath, String(run.id), "1", "1", "w"])
        #expect(r.status == 0)
        #expect(done.wait(timeout: .now() + 20) == .success)
        let elapsed = try #require(woke.get())
        #expect(elapsed < 5, "woke after \(elapsed) s")
    }

    @Test func commitsInARowAreEachSeenWithoutPollingInBetween() throws {
        let (tmp, db) = try freshDatabase()
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        let watch = try ChangeWatch(path: tmp.dbPath)
        _ = try watch.changed()
        let commits = 40
        let seen = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let stop = LockedBox(false)
        let looksBefore = watch.looks
        // A thread of its own: the global queue's threads may all be blocked by other tests.
        Thread {
            while !stop.get() {
                if (try? watch.waitForChange(timeout: 1)) == true { seen.signal() }
            }
            finished.signal()
        }.start()
        var slowest = 0.0
        for _ in 0..<commits {
            usleep(5_000) // a run printing 200 lines/s
            _ = try db.append(runId: run.id, [NewEvent(EventType.notice, .object([("text", "x")]))])
            let committed = Date()
            #expect(seen.wait(timeout: .now() + 10) == .success)
            slowest = max(slowest, Date().timeIntervalSince(committed))
        }
        stop.set(true)
        #expect(finished.wait(timeout: .now() + 10) == .success)
        // Each commit is seen at once (not at the 250 ms fallback), and the watch looks
        // only while a commit is being written and briefly after it, not every 100 µs
        // in between (which took 12.5 looks per commit).
        #expect(slowest < 0.1, "a commit was seen after \(slowest) s")
        let perCommit = Double(watch.looks - looksBefore) / Double(commits)
        #expect(perCommit < 8, "\(perCommit) looks per commit")
    }

    @Test func waitingTimesOutWhenNothingHappens() throws {
        let (tmp, _) = try freshDatabase()
        let watch = try ChangeWatch(path: tmp.dbPath)
        _ = try watch.changed()
        let start = Date()
        #expect(try !watch.waitForChange(timeout: 0.3))
        #expect(Date().timeIntervalSince(start) >= 0.29)
    }
}
