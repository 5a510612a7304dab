import Foundation
import MTestSupport
import Testing
import mdb
@testable import mweb

/// The push service's sleep: woken by the tailer's ring or poke, or by the
/// next retry's deadline, and otherwise not at all (no periodic work when idle).
@Suite struct PushBellTests {
    @Test func aWaitEndsAtARingOrAtItsDeadlineAndNotBefore() async throws {
        let bell = PushBell()
        #expect(await bell.wait(upTo: 0))  // the first round (start-up) is due at once
        #expect(bell.takeFillWanted())
        #expect(!bell.takeFillWanted())

        // Nothing rings: a deadline ends the wait, not earlier.
        let started = Date()
        #expect(await bell.wait(upTo: 0.2))
        #expect(Date().timeIntervalSince(started) >= 0.19)

        // No deadline: it sleeps until rung, then a fill is wanted.
        let woke = LockedBox(false)
        let waiter = Task { let alive = await bell.wait(upTo: nil); woke.set(true); return alive }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!woke.get(), "an idle push service must stay asleep without a deadline")
        bell.ring()
        #expect(await waiter.value)
        #expect(bell.takeFillWanted())

        // A poke (a commit without events) wakes it without asking for a fill; a ring before the wait is kept.
        bell.poke()
        #expect(await bell.wait(upTo: nil))
        #expect(!bell.takeFillWanted())

        // Shutdown ends a wait that has no deadline.
        let last = Task { await bell.wait(upTo: nil) }
        try await Task.sleep(for: .milliseconds(50))
        bell.finish()
        #expect(await last.value == false)
    }

    @Test func aCancelledServiceIsToldToStopInsteadOfWakingAtOnceForever() async {
        // An app stopped by cancellation (as tests stop theirs) cancels the push
        // service without a graceful shutdown: its waits return at once, so
        // `wait` must say stop, or the service's loop spins on a core.
        let bell = PushBell()
        _ = bell.takeFillWanted()
        for deadline in [nil, 0, 0.01] as [Double?] {
            let waiter = Task { await bell.wait(upTo: deadline) }
            waiter.cancel()
            #expect(await waiter.value == false, "deadline \(String(describing: deadline))")
        }
    }

    @Test func aPhoneNotificationSharesItsTagBetweenAnApprovalsRequestAndItsResolution() throws {
        func payload(_ type: String, _ data: String) -> String {
            #"{"title":"Approval needed","summary":"run 7 asks","event":{"id":1,"run_id":7,"seq":3,"ts":"t","type":"\#(type)","data":\#(data)}}"#
        }
        let asked = PhoneNotification(payload: payload(EventType.approvalRequested, #"{"approval_id":3}"#), baseURL: "https://m.example.org")
        let expired = PhoneNotification(payload: payload(EventType.approvalResolved, #"{"approval_id":3,"decision":"expired","by":"system"}"#),
                                        baseURL: "https://m.example.org")
        let approved = PhoneNotification(payload: payload(EventType.approvalResolved, #"{"approval_id":3,"decision":"approved","by":"web:phone"}"#),
                                         baseURL: "https://m.example.org")
        #expect(asked.tag == "m-approval-3" && expired.tag == asked.tag && approved.tag == asked.tag)
        #expect(asked.topic == "a3" && expired.topic == asked.topic)
        #expect(asked.asksForDecision && !expired.asksForDecision)
        #expect(expired.title == "Approval expired" && approved.title == "Approval approved")
        #expect(approved.body.hasSuffix("by web:phone"))
        #expect(asked.url == "https://m.example.org/#/runs/7")
        let finished = PhoneNotification(payload: payload(EventType.runFinished, #"{"status":"failed"}"#), baseURL: "http://x")
        #expect(finished.tag == "m-run-7" && finished.topic == "r7")
    }
}
