import Foundation
import MTestSupport
import Testing
import mdb

/// Per-run limits end a run with a notice that names the limit.
@Suite struct LimitsTests {
    @Test func aRunPastItsTimeLimitIsStoppedAndSaysWhy() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.db.createRun(NewRun(spec: RunSpec(command: "echo started; sleep 60; echo never",
                                                         limits: RunLimits(timeoutSeconds: 1)))).id
        let run = try h.finished(id, timeout: 20)
        #expect(run.status == .failed, "\(h.logs)")
        let events = try h.events(id)
        let notice = events.last { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("time limit") && notice.contains("timeout_s = 1"), "\(notice)")
        let started = try #require(events.first { $0.type == EventType.runStarted }?.ts)
        let finished = try #require(events.last { $0.type == EventType.runFinished }?.ts)
        #expect(try h.text(id) == "started\n")
        #expect(started < finished)
        // A run within its limit is not touched.
        let quick = try h.db.createRun(NewRun(spec: RunSpec(command: "echo ok", limits: RunLimits(timeoutSeconds: 30)))).id
        #expect(try h.finished(quick).status == .succeeded)
        #expect(throws: MDBError.self) {
            _ = try h.db.createRun(NewRun(spec: RunSpec(command: "true", limits: RunLimits(timeoutSeconds: 0))))
        }
    }

    /// Whether this host lets mexec make a run's cgroup (root, with cgroup v1's memory and pids
    /// hierarchies or cgroup v2 with those controllers).
    static let cgroupsWritable: Bool = {
        let fm = FileManager.default
        if fm.isWritableFile(atPath: "/sys/fs/cgroup/memory"), fm.isWritableFile(atPath: "/sys/fs/cgroup/pids") { return true }
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
        return controllers.contains("memory") && controllers.contains("pids") && fm.isWritableFile(atPath: "/sys/fs/cgroup")
    }()

    /// The output limit ends a run that would print forever, keeping exactly its bytes: through
    /// the shared writer (pipes) and through the executor's own pump (a terminal).
    @Test(arguments: [false, true]) func aRunPastItsOutputLimitIsStoppedWithExactlyItsBytes(pty: Bool) throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.db.createRun(NewRun(spec: RunSpec(command: "i=0; while true; do i=$((i+1)); echo \"line $i\"; done",
                                                         pty: pty ? true : nil, limits: RunLimits(outputBytes: 1000)))).id
        let run = try h.finished(id, timeout: 30)
        #expect(run.status == .failed, "\(h.logs)")
        let stored = try h.output(id, stream: pty ? "pty" : "stdout")
        #expect(stored.count == 1000, "\(stored.count) bytes kept")
        let expected = (1...200).map { "line \($0)" + (pty ? "\r\n" : "\n") }.joined().utf8.prefix(1000)
        #expect(stored == Array(expected))
        let notices = try h.events(id).filter { $0.type == EventType.notice }.compactMap { $0.dataValue["text"]?.stringValue }
        #expect(notices.contains { $0.contains("output cap of 1000 bytes reached") }, "\(notices)")
        #expect(notices.last?.contains("output limit (limits.output_bytes = 1000)") == true, "\(notices)")
    }

    @Test(.enabled(if: cgroupsWritable)) func aRunPastItsMemoryLimitIsStoppedAndSaysSo() throws {
        let h = try MexecHarness()
        try h.start()
        // 200 MiB written (not only reserved) against a 64 MiB limit, confined.
        let hog = try h.db.createRun(NewRun(spec: RunSpec(
            command: "/usr/bin/python3 -c 'b = b\"x\" * (200 << 20); print(\"survived\", len(b))'; sleep 30",
            limits: RunLimits(memoryMB: 64)))).id
        let run = try h.finished(hog, timeout: 30)
        #expect(run.status == .failed, "\(h.logs)")
        let hogOut = try h.text(hog)
        #expect(!hogOut.contains("survived"))
        let events = try h.events(hog)
        #expect(events.first { $0.type == EventType.runStarted }?.dataValue["sandbox"]?.stringValue == "bwrap")
        let notice = events.last { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("memory limit (limits.memory_mb = 64 MiB)"), "\(notice)")
        // Within its limit, the same program is not touched.
        let small = try h.db.createRun(NewRun(spec: RunSpec(
            command: "/usr/bin/python3 -c 'b = b\"x\" * (8 << 20); print(\"survived\", len(b))'",
            limits: RunLimits(memoryMB: 64)))).id
        #expect(try h.finished(small).status == .succeeded, "\(h.logs)")
        #expect(try h.text(small).contains("survived"))
    }

    @Test(.enabled(if: cgroupsWritable)) func aForkBombUnderAProcessLimitIsContainedAndTheRunEnds() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.db.createRun(NewRun(spec: RunSpec(command: "bomb() { bomb | bomb & }; bomb; sleep 60",
                                                         limits: RunLimits(pids: 24)))).id
        let run = try h.finished(id, timeout: 30)
        #expect(run.status == .failed, "\(h.logs)")
        let notice = try h.events(id).last { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("process limit (limits.pids = 24)"), "\(notice)")
        // The run's cgroup held it (and is gone), and nothing of the bomb is left.
        let log = h.executorLog(id)
        let line = try #require(log.split(separator: "\n").first { $0.contains("limits in cgroup") }, "\(log)")
        let folders = line.components(separatedBy: "limits in cgroup ").last!.components(separatedBy: ", ")
        #expect(!folders.isEmpty && folders.allSatisfy { $0.contains("m-run-\(id)-") }, "\(line)")
        #expect(eventually(timeout: 5) { folders.allSatisfy { !FileManager.default.fileExists(atPath: $0) } }, "\(folders)")
    }
}
