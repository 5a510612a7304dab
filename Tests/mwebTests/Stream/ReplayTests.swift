import Foundation
import MTestSupport
import Testing
import mdb
@testable import mweb

extension StreamLoad {
    @Suite struct ReplayTests {
        /// Several pages stored before the client connects (sent a page per
        /// batch), more appended while it replays (sent live, in batches of
        /// whatever queued up): each event arrives once, in order, across the
        /// replay/live boundary. For a run's stream (by seq) and all runs' (by id).
        @Test(arguments: [false, true])
        func aReplayOfManyPagesThenLiveEventsArrivesOnceInOrder(allRuns: Bool) async throws {
            try await LiveServer.with { server in
                let run = try server.db.createRun(NewRun(spec: RunSpec(command: "long")))
                _ = try server.db.claimNextRun(workerId: "w")
                let stored = 5 * WebDefaults.pageSize + WebDefaults.pageSize / 2
                try await onThread {
                    for start in stride(from: 0, to: stored, by: 500) {
                        try server.db.append(runId: run.id, (start..<min(stored, start + 500)).map {
                            NewEvent("output", ["stream": "stdout", "text": .string("stored \($0)\n")])
                        })
                    }
                }
                let received = LockedBox<[WireEvent]>([])
                let path = allRuns ? "/api/v1/stream?after=0" : "/api/v1/runs/\(run.id)/stream?after=0"
                async let client: UInt16? = stream(port: server.port, path: path, token: server.readToken) { text in
                    guard let event = WireEvent(text) else { return false }
                    received.mutate { $0.append(event) }
                    return event.type != "run.finished"
                }
                try await onThread { try writeFastRun(server.db, runId: run.id, count: 2_000) }
                _ = try await client
                let events = received.get()
                if allRuns {
                    #expect(events.map(\.id) == Array(1...(try server.db.lastEventId())), "every event once, in id order")
                } else {
                    #expect(events.map(\.seq) == Array(1...(try server.db.run(run.id).lastSeq)), "every event once, in seq order")
                }
            }
        }
    }
}
