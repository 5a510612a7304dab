import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct EventFeedTests {
    @Test func itReadsWhatTheDatabaseHoldsByIdInPagesLikeThePool() throws {
        let (tmp, db) = try freshDatabase()
        defer { withExtendedLifetime(tmp) {} }
        let a = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        let b = try db.createRun(NewRun(spec: RunSpec(command: "b")))
        for n in 0..<30 {
            try db.append(runId: n % 2 == 0 ? a.id : b.id,
                          [NewEvent(EventType.output, ["stream": "stdout", "text": .string("line \(n) é ✓\n")])])
        }
        let feed = try EventFeed(path: db.path)
        #expect(try feed.events(afterId: 0) == db.events(afterId: 0), "the same events, fields and order")
        let page = try feed.events(afterId: 5, limit: 10)
        #expect(page.map(\.id) == Array(6...15))
        #expect(try feed.events(afterId: 1_000).isEmpty)
    }

    @Test func eachReadSeesWhatWasCommittedSinceThePreviousOne() throws {
        let (tmp, db) = try freshDatabase()
        defer { withExtendedLifetime(tmp) {} }
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        let feed = try EventFeed(path: db.path)
        let first = try feed.events(afterId: 0)
        #expect(first.count == 1, "run.created")
        // Committed by another connection after the first read: no snapshot is kept between reads.
        try db.append(runId: run.id, [NewEvent(EventType.output, ["stream": "stderr", "text": "late\n"])])
        let next = try feed.events(afterId: first.last!.id)
        #expect(next.count == 1)
        #expect(next.first?.data.contains("late") == true)
    }
}
