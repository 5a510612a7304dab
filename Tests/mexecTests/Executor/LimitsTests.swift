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
}
