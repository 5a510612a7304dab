import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import mdb

/// A wire event as a client sees it.
struct WireEvent: Sendable, Equatable {
    var id: Int64
    var runId: Int64
    var seq: Int64
    var type: String

    init?(_ text: String) {
        guard let value = try? JSONValue.parse(text), let id = value["id"]?.intValue,
              let runId = value["run_id"]?.intValue, let seq = value["seq"]?.intValue,
              let type = value["type"]?.stringValue else { return nil }
        self.id = id
        self.runId = runId
        self.seq = seq
        self.type = type
    }
}

/// Connects a WebSocket, hands each text frame to `onFrame` until it returns
/// false (then closes), and returns the close code the server sent, if any.
@discardableResult
func stream(port: Int, path: String, token: String,
            onFrame: @escaping @Sendable (String) -> Bool) async throws -> UInt16? {
    var logger = Logger(label: "ws-test")
    logger.logLevel = .critical
    let client = WebSocketClient(
        url: "ws://127.0.0.1:\(port)\(path)",
        configuration: .init(maxFrameSize: 1 << 22, additionalHeaders: [.authorization: "Bearer \(token)"]),
        logger: logger
    ) { inbound, _, _ in
        for try await message in inbound.messages(maxSize: 1 << 22) {
            guard case .text(let text) = message else { continue }
            if !onFrame(text) { return }
        }
    }
    let close = try await client.run()
    switch close?.closeCode {
    case .unknown(let code)?: return code
    case nil: return nil
    case let code?:
        // Standard codes (1000, 1001, …).
        var buffer = ByteBuffer()
        buffer.write(webSocketErrorCode: code)
        return buffer.readInteger(as: UInt16.self)
    }
}
