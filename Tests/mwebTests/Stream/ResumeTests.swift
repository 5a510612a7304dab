import Foundation
import MTestSupport
import Testing
import mdb
@testable import mweb

/// Follows a run with a client that disconnects after a random number of
/// frames and reconnects with `after=` its last seq, until `run.finished`.
/// `port` is asked again on every connection (mweb may have been restarted).
func followWithRandomDisconnects(runId: Int64, token: String, port: @escaping @Sendable () -> Int,
                                 maxFramesPerConnection: Int = 60, deadlineSeconds: Double = 120,
                                 afterConnection: @escaping @Sendable (_ connections: Int, _ received: Int) -> Void = { _, _ in })
    async throws -> (events: [WireEvent], connections: Int) {
    let received = LockedBox<[WireEvent]>([])
    var connections = 0
    let deadline = Date().addingTimeInterval(deadlineSeconds)
    while received.get().last?.type != "run.finished" {
        guard Date() < deadline else { throw TestFailure("did not see run.finished in time; got \(received.get().count)") }
        let after = received.get().last?.seq ?? 0
        let budget = Int.random(in: 1...maxFramesPerConnection)
        let taken = LockedBox(0)
        do {
            try await stream(port: port(), path: "/api/v1/runs/\(runId)/stream?after=\(after)", token: token) { text in
                guard let event = WireEvent(text) else { return false }
                received.mutate { $0.append(event) }
                let n = taken.mutate { $0 += 1; return $0 }
                return n < budget && event.type != "run.finished"
            }
        } catch {
            // mweb went away mid-stream (killed): what arrived is kept; reconnect.
            try await Task.sleep(for: .milliseconds(20))
        }
        connections += 1
        afterConnection(connections, received.get().count)
    }
    return (received.get(), connections)
}

extension StreamLoad {
    @Suite struct ResumeTests {
        @Test func resumingWithAfterAtRandomPointsGivesEveryEventExactlyOnce() async throws {
            try await LiveServer.with { server in
                let run = try server.db.createRun(NewRun(spec: RunSpec(command: "fast")))
                _ = try server.db.claimNextRun(workerId: "w")
                let total = 3_000
                async let writer: Void = onThread { try writeFastRun(server.db, runId: run.id, count: total) }
                let (events, connections) = try await followWithRandomDisconnects(
                    runId: run.id, token: server.readToken, port: { server.port })
                try await writer
                let expected = try server.db.run(run.id).lastSeq
                #expect(events.map(\.seq) == Array(1...expected), "every event exactly once, in order")
                #expect(events.allSatisfy { $0.runId == run.id })
                #expect(connections >= 20, "reconnected \(connections) times")
            }
        }

        @Test func allRunsStreamSendsEveryEventInCommitOrder() async throws {
            try await LiveServer.with { server in
                let runs = try (0..<3).map { i in
                    try server.db.createRun(NewRun(title: "r\(i)", spec: RunSpec(command: "x"))).id
                }
                for id in runs { _ = try server.db.claimNextRun(workerId: "w\(id)") }
                async let writers: Void = onThread {
                    for _ in 0..<100 {
                        for id in runs { try server.db.append(runId: id, [NewEvent("output", ["text": "."])]) }
                    }
                    for id in runs { try server.db.finishRun(runId: id, status: .succeeded, exitCode: 0) }
                }
                let received = LockedBox<[WireEvent]>([])
                let finished = LockedBox(0)
                try await stream(port: server.port, path: "/api/v1/stream?after=0", token: server.readToken) { text in
                    guard let event = WireEvent(text) else { return false }
                    received.mutate { $0.append(event) }
                    if event.type == "run.finished" { finished.mutate { $0 += 1 } }
                    return finished.get() < runs.count
                }
                try await writers
                let lastId = try server.db.lastEventId()
                #expect(received.get().map(\.id) == Array(1...lastId))
            }
        }
    }
}
