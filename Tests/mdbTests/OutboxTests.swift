import Foundation
import GRDB
import MTestSupport
import Testing
@testable import mdb

/// A webhook notifier for the tests (the URL is never contacted here).
func webhook(_ events: [String] = [], runs: [Int64]? = nil) -> NewNotifier {
    NewNotifier(kind: .webhook, config: .object([("url", "http://127.0.0.1:9/hook")]), events: events, runIds: runs)
}

@Suite struct OutboxTests {
    @Test func aNotifierAddedAfterAThousandEventsGetsNoneOfThem() throws {
        let (_, db, run, _) = try twoClaimedRuns()
        for i in 0..<1_000 {
            try db.append(runId: run.id, [i % 100 == 0 ? NewEvent(EventType.notice, ["level": "info", "text": "n"]) : output("x")])
        }
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "before"))
        let notifier = try db.addNotifier(webhook([EventType.approvalRequested, EventType.notice]))
        #expect(notifier.afterEventId == (try db.lastEventId()))
        #expect(try db.fillOutbox() == 0)
        #expect(try db.outbox(notifierId: notifier.id).isEmpty)
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "after"))
        #expect(try db.fillOutbox() == 1)
        let items = try db.outbox(notifierId: notifier.id)
        #expect(items.count == 1)
        #expect(items[0].payload.contains("\"after\""))
    }

    @Test func fillingTwiceNeverDoublesAndTheCursorMovesWithTheRows() throws {
        let (_, db, run, other) = try twoClaimedRuns()
        let all = try db.addNotifier(webhook())
        let onlyOther = try db.addNotifier(webhook([EventType.runFinished], runs: [other.id]))
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "rm -rf build?"))
        try db.append(runId: run.id, [output("noise")])
        _ = try db.finishRun(runId: other.id, status: .succeeded, exitCode: 0)
        #expect(try db.fillOutbox() == 3)  // all: approval + finish; onlyOther: finish
        #expect(try db.fillOutbox() == 0)
        // A fill whose cursor update was lost (a crash) re-reads the same events: INSERT OR IGNORE keeps one each.
        try db.write { try $0.execute(sql: "UPDATE notifiers SET after_event_id = 0") }
        #expect(try db.fillOutbox() == 0)
        #expect(try db.outbox(notifierId: all.id).count == 2)
        let finish = try #require(try db.outbox(notifierId: onlyOther.id).first)
        #expect(finish.dedupeKey == "m-n\(onlyOther.id)-e\(finish.eventId)")
        let payload = try JSONValue.parse(finish.payload)
        #expect(payload["delivery"]?.stringValue == finish.dedupeKey)
        #expect(payload["event"]?["type"]?.stringValue == EventType.runFinished)
        #expect(payload["summary"]?.stringValue?.contains("succeeded (exit 0)") == true)
        #expect(try db.notifier(all.id).afterEventId == (try db.lastEventId()))
    }

    @Test func aFailingNotifierBacksOffTurnsFailingOnceWithANoticeAndRecovers() throws {
        let (_, db, run, _) = try twoClaimedRuns()
        let notifier = try db.addNotifier(webhook())
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
        try db.fillOutbox()
        let policy = RetryPolicy(baseSeconds: 0.05, maxSeconds: 0.2, maxAttempts: 100)
        for attempt in 1...4 {
            var claimed: [OutboxDelivery] = []
            #expect(try eventually(timeout: 5) { claimed = try db.claimDueOutbox(); return !claimed.isEmpty })
            #expect(claimed.count == 1)
            #expect(claimed[0].item.attempts == attempt)
            // Claimed: no one else takes it meanwhile.
            #expect(try db.claimDueOutbox().isEmpty)
            try db.markOutboxFailed(id: claimed[0].item.id, error: "HTTP 503", policy: policy)
        }
        let failing = try db.notifier(notifier.id)
        #expect(failing.state == "failing")
        #expect(failing.consecutiveFailures == 4)
        #expect(failing.lastError == "HTTP 503")
        let notices = try db.events(runId: run.id, afterSeq: 0).filter { $0.type == EventType.notice }
        #expect(notices.count == 1)
        #expect(notices[0].data.contains("notifier \(notifier.id)"))
        var claimed: [OutboxDelivery] = []
        #expect(try eventually(timeout: 5) { claimed = try db.claimDueOutbox(); return !claimed.isEmpty })
        try db.markOutboxSent(id: claimed[0].item.id)
        #expect(try db.notifier(notifier.id).state == "ok")
        #expect(try db.outboxItem(claimed[0].item.id).status == "sent")
    }

    @Test func anItemGivesUpAfterItsLastAttemptAndABackoffDoubles() throws {
        let policy = RetryPolicy(baseSeconds: 2, maxSeconds: 600, maxAttempts: 2)
        #expect(policy.delay(afterAttempts: 1) == 2)
        #expect(policy.delay(afterAttempts: 4) == 16)
        #expect(policy.delay(afterAttempts: 30) == 600)
        let (_, db, run, _) = try twoClaimedRuns()
        _ = try db.addNotifier(webhook())
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
        try db.fillOutbox()
        let first = try #require(try db.claimDueOutbox().first)
        let retried = try db.markOutboxFailed(id: first.item.id, error: "refused", policy: policy)
        #expect(retried.status == "pending")
        #expect(try db.claimDueOutbox().isEmpty)  // not due for 2 s
        try db.write { try $0.execute(sql: "UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000Z'") }
        let second = try #require(try db.claimDueOutbox().first)
        #expect(try db.markOutboxFailed(id: second.item.id, error: "refused", policy: policy).status == "failed")
    }

    @Test func aFailuresOnlyNotifierIsNotToldOfRunsThatSucceeded() throws {
        let (_, db, run, other) = try twoClaimedRuns()
        let notifier = try db.addNotifier(NewNotifier(kind: .webhook, config: .object([("url", "http://127.0.0.1:9/h")]),
                                                      failuresOnly: true))
        #expect(notifier.failuresOnly)
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
        _ = try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
        _ = try db.finishRun(runId: other.id, status: .failed, exitCode: 1)
        try db.fillOutbox()
        let sent = try db.outbox(notifierId: notifier.id).map { try JSONValue.parse($0.payload)["event"] }
        #expect(sent.map { $0?["type"]?.stringValue } == [EventType.approvalRequested, EventType.runFinished])
        #expect(sent.last??["run_id"]?.intValue == other.id)
    }

    @Test func aDiffApprovalsSummaryCarriesItsFileAndLineCounts() throws {
        let (_, db, run, _) = try twoClaimedRuns()
        let notifier = try db.addNotifier(webhook())
        let diffId = try db.write { db in
            try db.execute(sql: """
                INSERT INTO diffs (run_id, files, additions, deletions)
                VALUES (?, '[{"path":"a"},{"path":"b"},{"path":"c"}]', 12, 4)
                """, arguments: [run.id])
            return db.lastInsertedRowID
        }
        _ = try db.requestApproval(runId: run.id, NewApproval(kind: "diff", title: "Apply the refactor?", diffId: diffId))
        try db.fillOutbox()
        let payload = try JSONValue.parse(try #require(try db.outbox(notifierId: notifier.id).first).payload)
        #expect(payload["summary"]?.stringValue == "run \(run.id) asks (diff) [3 files, +12 −4]: Apply the refactor?")
    }

    @Test func pruningKeepsPendingNotificationsAndRecentOnes() throws {
        let (_, db, run, _) = try twoClaimedRuns()
        let notifier = try db.addNotifier(webhook())
        for i in 0..<3 { _ = try db.requestApproval(runId: run.id, NewApproval(title: "q\(i)")) }
        try db.fillOutbox()
        let rows = try db.outbox(notifierId: notifier.id)
        try db.markOutboxSent(id: rows[0].id)
        try db.markOutboxSent(id: rows[1].id)
        try db.write { try $0.execute(sql: "UPDATE outbox SET created_at = '2000-01-01T00:00:00.000Z' WHERE id IN (?, ?, ?)",
                                      arguments: [rows[0].id, rows[2].id, rows[2].id]) }
        #expect(try db.pruneOutbox() == 1)  // old and sent; the old pending one and the recent sent one stay
        #expect(try db.outbox(notifierId: notifier.id).map(\.id) == [rows[1].id, rows[2].id])
    }

    @Test func aClaimTakesTheOldestDueRowOfEachNotifier() throws {
        let (_, db, run, _) = try twoClaimedRuns()
        let first = try db.addNotifier(webhook())
        let second = try db.addNotifier(webhook())
        for i in 0..<3 { _ = try db.requestApproval(runId: run.id, NewApproval(title: "q\(i)")) }
        #expect(try db.fillOutbox() == 6)
        var order: [Int64: [Int64]] = [:]
        while true {
            let claimed = try db.claimDueOutbox()
            if claimed.isEmpty { break }
            #expect(Set(claimed.map(\.notifier.id)).count == claimed.count)
            for delivery in claimed {
                order[delivery.notifier.id, default: []].append(delivery.item.eventId)
                try db.markOutboxSent(id: delivery.item.id)
            }
        }
        #expect(order[first.id] == order[first.id]?.sorted())
        #expect(order[first.id]?.count == 3)
        #expect(order[second.id] == order[first.id])
    }

    @Test func claimsOfADeadSenderAreReleasedOnStart() throws {
        let (_, db, run, _) = try twoClaimedRuns()
        _ = try db.addNotifier(webhook())
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
        try db.fillOutbox()
        #expect(try db.claimDueOutbox().count == 1)
        #expect(try db.claimDueOutbox().isEmpty)
        #expect(try db.releaseClaims() == 1)
        #expect(try db.claimDueOutbox().first?.item.attempts == 2)
    }

    @Test func badNotifiersAreRefusedWithWhatToGive() throws {
        let (_, db) = try freshDatabase()
        #expect(throws: MDBError.self) { try db.addNotifier(NewNotifier(kind: .webhook, config: .object([("url", "ftp://x")]))) }
        #expect(throws: MDBError.self) { try db.addNotifier(NewNotifier(kind: .exec, config: .object([]))) }
        #expect(throws: MDBError.self) { try db.addNotifier(webhook([EventType.output])) }
        #expect(try db.notifiers().isEmpty)
        let added = try db.addNotifier(webhook())
        #expect(added.eventTypes == Defaults.notifierDefaultEvents)
        try db.removeNotifier(added.id)
        #expect(throws: MDBError.notifierNotFound(added.id)) { try db.removeNotifier(added.id) }
    }
}
