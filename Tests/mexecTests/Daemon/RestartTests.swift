import Foundation
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RestartTests {
    @Test func killingTheDaemonMidRunLosesNoOutputAndAnotherDaemonLetsItFinish() throws {
        let h = try MexecHarness(args: ["--lease-seconds", "3"])
        let first = try h.start()
        let lines = 300
        let id = try h.create("i=0; while [ $i -lt \(lines) ]; do i=$((i+1)); echo line $i; sleep 0.01; done")
        #expect(try h.waitForOutput(id, containing: "line 20\n"), "\(h.logs)")
        let executor = try #require(try h.db.processes(runId: id).executorPid)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(Proc.isAlive(executor), "the executor must outlive the daemon")
        try h.start()
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try h.text(id) == (1...lines).map { "line \($0)\n" }.joined())
        #expect(try h.events(id).filter { $0.type == EventType.runStarted }.count == 1, "the run must not run twice")
        // The killed daemon was the run's output writer: the executor delegated again to the next one.
        let log = h.executorLog(id)
        #expect(log.contains("the shared writer let go of this run's output"), "\(h.logs)")
        // (A connection to the dying daemon's listener may come first and be lost too.)
        #expect(log.components(separatedBy: "the shared writer reads this run's stdout and stderr").count >= 3, "\(h.logs)")
    }

    @Test func aGracefulRestartLeavesTheRunningRunAlone() throws {
        let h = try MexecHarness(args: ["--lease-seconds", "2"])
        let first = try h.start()
        let id = try h.create(#"echo waiting; read x; echo "done:$x""#)
        #expect(try h.waitForOutput(id, containing: "waiting"), "\(h.logs)")
        first.terminate()
        #expect(try eventually(timeout: 10) { !first.isRunning }, "mexec must stop on SIGTERM")
        #expect(first.terminationStatus == 0)
        // Longer than a lease: the executor's own heartbeat keeps the run.
        Thread.sleep(forTimeInterval: 3)
        try h.start()
        try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "yes"])
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try h.text(id) == "waiting\ndone:yes\n")
        #expect(try h.events(id).filter { $0.type == EventType.runStarted }.count == 1)
    }

    @Test func killingAnExecutorMakesTheRunLostAndEndsItsProcesses() throws {
        let h = try MexecHarness(args: ["--lease-seconds", "2", "--heartbeat-ms", "500"])
        try h.start()
        let id = try h.create("sleep 1000 & echo ready; sleep 1000")
        #expect(try h.waitForOutput(id, containing: "ready"), "\(h.logs)")
        let processes = try h.db.processes(runId: id)
        let executor = try #require(processes.executorPid)
        let pgid = try #require(processes.agentPgid)
        #expect(Proc.liveMembers(ofGroup: pgid).count >= 2)
        let killed = Date()
        kill(executor, SIGKILL)
        let run = try h.finished(id, timeout: 15)
        #expect(run.status == .lost, "\(h.logs)")
        // Lease (2 s) + reaper interval (1 s) + slack for a loaded machine.
        #expect(Date().timeIntervalSince(killed) < 8)
        let notice = try h.events(id).first { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("lease"))
        #expect(try eventually(timeout: 5) { Proc.liveMembers(ofGroup: pgid).isEmpty }, "orphaned agent processes must be killed")
        // The reaper removes the directory after marking the run lost; it now also holds the
        // workspace's baseline history (many files), so removal is awaited, not assumed.
        var leftovers: [String] = []
        _ = try eventually(timeout: 10) {
            leftovers = try FileManager.default.contentsOfDirectory(atPath: h.tmp.file("runs")).filter { $0.hasPrefix("\(id)-") }
            return leftovers.isEmpty
        }
        #expect(leftovers.isEmpty, "the lost run's private directory must be removed")
    }
}

@Suite struct ClaimerTests {
    @Test func concurrencyLimitsHowManyRunsExecuteAtOnce() throws {
        let h = try MexecHarness(args: ["--concurrency", "1"])
        try h.start()
        let a = try h.create("sleep 0.3"), b = try h.create("sleep 0.3")
        let ra = try h.finished(a), rb = try h.finished(b)
        #expect(ra.status == .succeeded && rb.status == .succeeded, "\(h.logs)")
        #expect(try #require(rb.startedAt) >= #require(ra.finishedAt), "run b must wait for run a")
    }
}
