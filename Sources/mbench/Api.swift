import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import mdb

/// The parts of M's HTTP/WebSocket API the bench drives, exactly as a client would.
struct Api: Sendable {
    let baseURL: String
    let token: String

    /// POSTs JSON and returns the parsed response (throws on a non-2xx status).
    @discardableResult
    func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + "/api/v1" + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.text))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let text = String(buffer: bytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Cluster.SetupError(description: "POST \(path) → \(response.status.code): \(text)")
        }
        return try JSONValue.parse(text)
    }

    /// Creates a command run and returns its id.
    func createRun(command: String, title: String = "bench") async throws -> Int64 {
        let run = try await post("/runs", ["agent": "command", "command": .string(command), "title": .string(title)])
        guard let id = run["id"]?.intValue else { throw Cluster.SetupError(description: "no id in \(run.text)") }
        return id
    }

    /// The WebSocket URL of a run's stream (or all runs' when `runId` is nil).
    func streamURL(runId: Int64?, after: Int64 = 0) -> String {
        let ws = baseURL.replacingOccurrences(of: "http://", with: "ws://")
        if let runId { return "\(ws)/api/v1/runs/\(runId)/stream?after=\(after)" }
        return "\(ws)/api/v1/stream?after=\(after)"
    }

    /// Follows a stream like a real client: calls `onFrame` with each text frame
    /// until it returns false; when the server closes early (a slow client gets
    /// 4008), reconnects with `after=` the last seq received. Returns the number
    /// of reconnects.
    @discardableResult
    func stream(runId: Int64?, after: Int64 = 0, onConnect: @escaping @Sendable () -> Void = {},
                onFrame: @escaping @Sendable (String) async -> Bool) async throws -> Int {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        let config = WebSocketClientConfiguration(maxFrameSize: 1 << 22, additionalHeaders: headers)
        let cursor = LockedCounter()
        cursor.set(Int(after))
        let done = LockedCounter()
        var reconnects = -1
        while done.value == 0 {
            reconnects += 1
            if reconnects > 1000 { throw Cluster.SetupError(description: "stream kept closing") }
            _ = try await WebSocketClient.connect(url: streamURL(runId: runId, after: Int64(cursor.value)), configuration: config,
                                                  logger: Logger(label: "mbench.ws")) { inbound, _, _ in
                onConnect()
                for try await message in inbound.messages(maxSize: 1 << 24) {
                    guard case .text(let text) = message else { continue }
                    if let seq = FrameScan.integer(after: runId == nil ? FrameScan.idKey : FrameScan.seqKey, in: text) {
                        cursor.set(seq)
                    }
                    if await !onFrame(text) { done.set(1); return }
                }
            }
        }
        return reconnects
    }
}
