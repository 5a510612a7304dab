import NIOCore
import NIOWebSocket
import mdb

/// One event ready to send: encoded once (`Event.wireJSON`) and shared by
/// every subscriber, with the keys a subscriber needs to order and dedupe it.
struct WireFrame: Sendable {
    let id: Int64
    let runId: Int64
    let seq: Int64
    /// The text frame, built once; every client's write shares its bytes.
    let frame: WebSocketFrame

    init(_ event: Event) {
        id = event.id
        runId = event.runId
        seq = event.seq
        frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: event.wireJSON))
    }
}
