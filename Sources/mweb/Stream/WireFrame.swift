import NIOCore
import mdb

/// One event ready to send: encoded once and shared by every subscriber,
/// with the keys a subscriber needs to order and dedupe it.
struct WireFrame: Sendable {
    let id: Int64
    let runId: Int64
    let seq: Int64
    /// The text frame as it goes on the wire (an unmasked server frame: its
    /// header, then the text), built once; every client's write shares its
    /// bytes. Written below the WebSocket encoder (`ChannelSink`): the
    /// encoder would build and queue a header per frame per client, since it
    /// cannot prepend to bytes every client shares.
    let wire: ByteBuffer

    /// Room for the longest header of an unmasked frame (2 + 8 bytes).
    private static let headerRoom = 10

    init(_ event: Event) {
        id = event.id
        runId = event.runId
        seq = event.seq
        var buffer = ByteBufferAllocator().buffer(
            capacity: Self.headerRoom + 80 + event.ts.utf8.count + event.type.utf8.count + event.data.utf8.count)
        buffer.moveWriterIndex(forwardBy: Self.headerRoom)
        buffer.moveReaderIndex(forwardBy: Self.headerRoom)
        buffer.writeWireJSON(event)
        buffer.prependTextFrameHeader()
        wire = buffer
    }
}

extension ByteBuffer {
    /// Writes, in the room before the readable bytes, the header of a final,
    /// unmasked text frame carrying them (RFC 6455 §5.2), and makes it readable.
    fileprivate mutating func prependTextFrameHeader() {
        let length = readableBytes
        let finText: UInt16 = 0x81 << 8  // FIN, opcode 1 (text), then the length byte
        let start: Int
        if length < 126 {
            start = readerIndex - 2
            setInteger(finText | UInt16(length), at: start)
        } else if length <= Int(UInt16.max) {
            start = readerIndex - 4
            setInteger(finText | 126, at: start)
            setInteger(UInt16(length), at: start + 2)
        } else {
            start = readerIndex - 10
            setInteger(finText | 127, at: start)
            setInteger(UInt64(length), at: start + 2)
        }
        moveReaderIndex(to: start)
    }

    /// `Event.wireJSON`, byte for byte, written straight into the buffer: a
    /// replay encodes every event, and building a `String` first (then copying
    /// it into a buffer) was a sixth of mweb's CPU in a replay.
    mutating func writeWireJSON(_ event: Event) {
        writeStaticString("{\"id\":")
        writeDecimal(event.id)
        writeStaticString(",\"run_id\":")
        writeDecimal(event.runId)
        writeStaticString(",\"seq\":")
        writeDecimal(event.seq)
        writeStaticString(",\"ts\":")
        writeJSONString(event.ts)
        writeStaticString(",\"type\":")
        writeJSONString(event.type)
        writeStaticString(",\"data\":")
        if event.data.isEmpty { writeStaticString("{}") } else { writeString(event.data) }
        writeStaticString("}")
    }

    /// A JSON string literal; anything that needs escaping goes through
    /// `JSONValue.writeString`, the one escaper (timestamps and types never do).
    private mutating func writeJSONString(_ s: String) {
        func needsEscape(_ b: UInt8) -> Bool { b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") }
        // A native string's bytes in place (the generic `utf8.contains` showed
        // in a replay's profile); a bridged string takes the generic path.
        let escape = s.utf8.withContiguousStorageIfAvailable { bytes in
            var i = 0
            while i < bytes.count { if needsEscape(bytes[i]) { return true }; i += 1 }
            return false
        } ?? s.utf8.contains(where: needsEscape)
        if escape {
            var escaped = ""
            JSONValue.writeString(s, to: &escaped)
            writeString(escaped)
        } else {
            writeInteger(UInt8(ascii: "\""))
            writeString(s)
            writeInteger(UInt8(ascii: "\""))
        }
    }

    /// An integer in decimal ASCII, without building a `String`.
    private mutating func writeDecimal(_ value: Int64) {
        if value < 0 { writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            writeBytes(UnsafeMutableBufferPointer(rebasing: digits[start...]))
        }
    }
}
