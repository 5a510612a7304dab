import Foundation
import MTestSupport
import Testing
import mdb
@testable import mweb

/// Latency percentiles in milliseconds.
func percentiles(_ samples: [Double]) -> (p50: Double, p99: Double) {
    let sorted = samples.sorted()
    guard !sorted.isEmpty else { return (0, 0) }
    func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))] }
    return (at(0.5), at(0.99))
}

/// `clients` WebSocket clients follow one run while a writer appends paced
/// events; every client must receive every event, and the delay from each
/// append's commit to each frame's arrival is measured.
func followRun(clients: Int, events: Int) async throws -> (p50: Double, p99: Double) {
    try await LiveServer.with { server in
        let run = try server.db.createRun(NewRun(spec: RunSpec(command: "paced")))
        _ = try server.db.claimNextRun(workerId: "w")
        let committed = LockedBox<[Int64: UInt64]>([:])
        let arrivals = LockedBox<[[(Int64, UInt64)]]>(Array(repeating: [], count: clients))
        let connected = LockedBox(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask {
                    try await stream(port: server.port, path: "/api/v1/runs/\(run.id)/stream?after=0",
                                     token: server.readToken) { text in
                        let at = nowNanoseconds()
                        // A cheap look at the frame: the client must not be the bottleneck.
                        guard let seq = quickSeq(text) else { return false }
                        if seq == 1 { connected.mutate { $0 += 1 } }
                        arrivals.mutate { $0[c].append((seq, at)) }
                        return !text.contains("\"type\":\"run.finished\"")
                    }
                }
            }
            // Start writing once every client has replayed `run.created`.
            guard await eventuallyAsync(timeout: 60, { connected.get() == clients }) else {
                throw TestFailure("only \(connected.get()) of \(clients) clients connected")
            }
            try await onThread {
                for i in 0..<events {
                    let stored = try server.db.append(runId: run.id, [NewEvent("output", ["text": .string("line \(i)\n")])])
                    let at = nowNanoseconds()
                    committed.mutate { $0[stored[0].seq] = at }
                    usleep(10_000)
                }
                try server.db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
            }
            try await group.waitForAll()
        }
        let lastSeq = try server.db.run(run.id).lastSeq
        var samples: [Double] = []
        let commits = committed.get()
        for (c, got) in arrivals.get().enumerated() {
            #expect(got.map(\.0) == Array(1...lastSeq), "client \(c) got every event once, in order")
            for (seq, at) in got {
                if let t = commits[seq] { samples.append(Double(at > t ? at - t : 0) / 1e6) }
            }
        }
        return percentiles(samples)
    }
}

/// The `seq` of a wire event's text, without parsing all of it.
func quickSeq(_ text: String) -> Int64? {
    guard let range = text.range(of: "\"seq\":") else { return nil }
    return Int64(text[range.upperBound...].prefix { $0.isNumber })
}

extension StreamLoad {
    @Suite struct FanOutTests {
        @Test func oneClientReceivesEveryEventPromptly() async throws {
            let (p50, p99) = try await followRun(clients: 1, events: 150)
            print("mweb latency, 1 client: p50 \(String(format: "%.2f", p50)) ms, p99 \(String(format: "%.2f", p99)) ms")
            #expect(p99 < 5_000, "generous: other suites share the 2 cores")
        }

        @Test func twoHundredClientsAllReceiveEveryEvent() async throws {
            let (p50, p99) = try await followRun(clients: 200, events: 150)
            print("mweb latency, 200 clients: p50 \(String(format: "%.2f", p50)) ms, p99 \(String(format: "%.2f", p99)) ms")
            #expect(p99 < 30_000)
        }
    }
}
