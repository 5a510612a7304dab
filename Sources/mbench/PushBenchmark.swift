import AsyncHTTPClient
import Foundation
import NIOCore
import mdb
#if canImport(Glibc)
import Glibc
#endif

extension Scenarios {
    /// An approval's commit → the push request reaching a local webhook
    /// receiver (mweb's tailer wakes, the push service fills the outbox and
    /// sends). Baseline: the same commit, then the same request sent by mbench
    /// itself — the database and one loopback HTTP request, without the bus.
    /// Each approval is committed alone, 20 ms apart.
    func push() async throws -> [BenchRow] {
        let count = quick ? 30 : 200
        let sink = try HTTPSink()
        defer { sink.stop() }
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start(concurrency: 1, withExecutor: false)
        let added = try cluster.runTool("mcli", ["notify", "add", "webhook", "--json", "--url", "http://127.0.0.1:\(sink.port)/hook",
                                         "--event", "approval.requested", "--db", cluster.dbPath])
        let db = try MDatabase(path: cluster.dbPath, migrate: false)
        let run = try db.createRun(NewRun(title: "bench", spec: RunSpec(command: "true")))
        _ = try db.claimNextRun(workerId: "mbench")

        let viaPush = LatencyRecorder(), direct = LatencyRecorder()
        for i in 0..<count {
            _ = try db.requestApproval(runId: run.id, NewApproval(kind: "command", title: "step \(i)"))
            let committed = wallNanos()
            guard let arrived = await sink.waitForRequest(path: "/hook", number: i + 1, timeout: 10) else {
                throw Cluster.SetupError(description: "push \(i + 1) of \(count) did not arrive within 10 s")
            }
            viaPush.record(nanos: Int64(arrived) - Int64(committed))
            try await Task.sleep(for: .milliseconds(20))
        }
        // The baseline's approvals are not pushed: the same quiet machine for both.
        _ = try cluster.runTool("mcli", ["notify", "remove", String(try JSONValue.parse(added)["id"]?.intValue ?? 1),
                                         "--db", cluster.dbPath])
        let http = HTTPClient.shared
        let body = String(repeating: "x", count: 600)
        for i in 0..<count {
            _ = try db.requestApproval(runId: run.id, NewApproval(kind: "command", title: "baseline \(i)"))
            let committed = wallNanos()
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(sink.port)/baseline")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            _ = try await http.execute(request, timeout: .seconds(10)).body.collect(upTo: 1024)
            guard let arrived = await sink.waitForRequest(path: "/baseline", number: i + 1, timeout: 10) else {
                throw Cluster.SetupError(description: "baseline request \(i + 1) was not received")
            }
            direct.record(nanos: Int64(arrived) - Int64(committed))
            try await Task.sleep(for: .milliseconds(20))
        }
        return [("p50", 50.0), ("p99", 99.0), ("max", 100.0)].map { name, p in
            BenchRow(scenario: "push", metric: "approval commit → webhook request received, \(name)",
                     m: p == 100 ? viaPush.maxMs : viaPush.ms(p), baseline: p == 100 ? direct.maxMs : direct.ms(p),
                     baselineName: "commit, then the request sent directly", unit: "ms")
        }
    }
}

/// A minimal HTTP/1.1 receiver on loopback: stamps each request when its
/// head and body are in, answers 200 (keep-alive), one thread per connection.
final class HTTPSink: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var arrivals: [String: [UInt64]] = [:]

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 64) == 0 else { throw Cluster.SetupError(description: "the push receiver could not listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { self.serve(client) }
            }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The wall-clock arrival of the `number`-th request (1-based) to `path`, waiting up to `timeout` seconds.
    func waitForRequest(path: String, number: Int, timeout: Double) async -> UInt64? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let stamp = lock.withLock({ () -> UInt64? in
                let stamps = arrivals[path, default: []]
                return stamps.count >= number ? stamps[number - 1] : nil
            }) { return stamp }
            try? await Task.sleep(for: .microseconds(200))
        }
        return nil
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // A head, then Content-Length bytes of body.
            while true {
                if let end = Self.headEnd(pending) {
                    let head = String(decoding: pending[..<end], as: UTF8.self)
                    let path = head.split(separator: " ", maxSplits: 2).dropFirst().first.map(String.init) ?? ""
                    let length = head.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if pending.count >= end + 4 + length {
                        let stamp = wallNanos()
                        lock.withLock { arrivals[path, default: []].append(stamp) }
                        pending.removeFirst(end + 4 + length)
                        let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
                        guard write(fd, reply, reply.count) == reply.count else { return }
                        continue
                    }
                }
                break
            }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return }
            pending += buffer[0..<n]
        }
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}
