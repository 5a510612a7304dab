// mbench: latency from an event's commit to its WebSocket frame at N clients,
// against a running mweb. Usage: mbench DB PORT TOKEN CLIENTS EVENTS INTERVAL_MS
// Writes the events itself (as an executor would) and prints p50/p99 in ms.
import Foundation
import HummingbirdWSClient
import Logging
import mdb

let args = CommandLine.arguments
guard args.count == 7, let port = Int(args[2]), let clients = Int(args[4]), let events = Int(args[5]),
      let intervalMs = Double(args[6]) else {
    FileHandle.standardError.write(Data("usage: mbench DB PORT TOKEN CLIENTS EVENTS INTERVAL_MS\n".utf8))
    exit(2)
}
let db = try MDatabase(path: args[1])
let token = args[3]
let run = try db.createRun(NewRun(spec: RunSpec(command: "bench")))
_ = try db.claimNextRun(workerId: "bench")

final class Box<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func with<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
enum Clock {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seqOf(_ text: String) -> Int64? {
        guard let r = text.range(of: "\"seq\":") else { return nil }
        return Int64(text[r.upperBound...].prefix { $0.isNumber })
    }
}

let committed = Box<[Int64: UInt64]>([:])
let arrivals = Box<[(Int64, UInt64)]>([])
let connected = Box(0)
let logger: Logger = {
    var logger = Logger(label: "mbench")
    logger.logLevel = .critical
    return logger
}()
let runId = run.id

try await withThrowingTaskGroup(of: Void.self) { group in
    for _ in 0..<clients {
        group.addTask {
            let client = WebSocketClient(
                url: "ws://127.0.0.1:\(port)/api/v1/runs/\(runId)/stream?after=0",
                configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer \(token)"]),
                logger: logger
            ) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    let at = Clock.now()
                    guard let seq = Clock.seqOf(text) else { continue }
                    if seq == 1 { connected.with { $0 += 1 } } else { arrivals.with { $0.append((seq, at)) } }
                    if text.contains("\"type\":\"run.finished\"") { return }
                }
            }
            try await client.run()
        }
    }
    while connected.with({ $0 }) < clients { try await Task.sleep(for: .milliseconds(10)) }
    let writer = Thread {
        for i in 0..<events {
            let stored = try! db.append(runId: runId, [NewEvent("output", ["text": .string("line \(i)\n")])])
            let at = Clock.now()
            committed.with { $0[stored[0].seq] = at }
            usleep(UInt32(intervalMs * 1000))
        }
        try! db.finishRun(runId: runId, status: .succeeded, exitCode: 0)
    }
    writer.start()
    try await group.waitForAll()
}
let commits = committed.with { $0 }
let samples = arrivals.with { $0 }.compactMap { seq, at in commits[seq].map { Double(at > $0 ? at - $0 : 0) / 1e6 } }.sorted()
let pct = { (q: Double) -> Double in samples.isEmpty ? 0 : samples[min(samples.count - 1, Int(Double(samples.count - 1) * q))] }
print(String(format: "clients %d, events %d every %.0f ms: frames %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
             clients, events, intervalMs, samples.count, pct(0.5), pct(0.99), samples.last ?? 0))
