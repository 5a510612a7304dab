import mdb

/// The executor ↔ shared-writer protocol over a Unix stream socket: each
/// message is a little-endian `UInt32` length and a payload. A connection
/// carries one run's batches in order. The executor does not wait for each:
/// the writer answers at once only a batch flagged "reply now" (every
/// `outputWriterAckEveryBatches`-th, and the last before the run ends) with a
/// cumulative acknowledgement, and any batch it did not store; a line then
/// costs the executor one wake-up, not two.
///
/// The first message on a connection is a hello: a batch message with flag
/// bit 1 set, no events and number 0, naming the run. The writer checks that
/// the sender is the run's executor and from then on rings it (`requestsWaiting`)
/// whenever something new waits for the run in the database (input, a cancel,
/// a diff request), so the executor need not poll for them.
///
/// An executor whose agent writes to pipes then hands their reading to the
/// writer: a delegation (flag bit 2) carries, over `SCM_RIGHTS`, each pipe's
/// read end and the write end of a "consumed" pipe of its own (see
/// `DelegatedOutput`); its number is the first batch the writer will number,
/// and its events, one per stream, are `stream` events `{"name", "cap"}`. The
/// writer then rings the executor to `drain` its consumed pipes when they
/// fill, and says `streamsEnded` once every stream ended and all of it is
/// stored.
///
/// Batch: flags u8 (bit 0: reply now, bit 1: hello, bit 2: delegation, bit 3: caps the output), runId i64, number i64,
/// workerId (u16 length + UTF-8), output bytes of stdout, stderr and pty (i64 each), event count u32, then per event: type (u8
/// length + UTF-8), data (u32 length + JSON text).
/// Reply: number i64, code u8, message (the rest, UTF-8). `stored` for
/// number N means every batch up to N of this connection is stored;
/// `requestsWaiting` carries number 0.
enum WriterWire {
    /// What the writer answers for a batch.
    enum Reply: Equatable, Sendable {
        /// Stored now, or by an earlier send of the same batch.
        case stored
        /// The run does not take output from this executor any more; the text says why.
        case refused(String)
        /// The commit failed (database busy past its timeout, disk full): send it again later.
        case failed(String)
        /// This connection may not write for the run (its peer is not the run's executor).
        case notAllowed(String)
        /// Not an answer to a batch: something new waits for the run (the first one also
        /// confirms the hello); read the run's requests.
        case requestsWaiting
        /// Not an answer to a batch: empty the consumed pipes of a delegation (they are full).
        case drain
        /// The delegated streams all ended and everything they held is stored, through this batch.
        case streamsEnded
        /// Not an answer to a batch: the run's output reached its cap (what follows is discarded).
        case outputCapped
    }

    /// A batch message as the writer reads it.
    struct Incoming: Equatable {
        /// The batch (no events and number 0 for a hello).
        var batch: OutputBatch
        /// The sender waits for the answer to this batch.
        var replyNow: Bool
        /// A connection's first message: register for `requestsWaiting`, store nothing.
        var hello: Bool
        /// The writer reads the run's pipes from now on (their descriptors came with it).
        var delegation: Bool = false
    }

    /// A message longer than the writer accepts, or cut short.
    struct MalformedMessage: Error, CustomStringConvertible {
        let description: String
    }

    /// The framed message for a batch.
    static func encode(_ batch: OutputBatch, replyNow: Bool, hello: Bool = false) -> [UInt8] {
        var message = BatchMessage(runId: batch.runId, workerId: batch.workerId, number: batch.number,
                                   replyNow: replyNow, hello: hello)
        for event in batch.events { message.append(event) }
        var framed = message.framed()
        let countOffset = 4 + 1 + 16 + 2 + batch.workerId.utf8.prefix(Int(UInt16.max)).count
        for (index, count) in [batch.bytes.stdout, batch.bytes.stderr, batch.bytes.pty].enumerated() {
            set(&framed, at: countOffset + 8 * index, UInt64(count), size: 8)
        }
        if batch.capsOutput { framed[4] |= 8 }
        return framed
    }

    /// The hello that opens a connection for `runId`.
    static func encodeHello(runId: Int64, workerId: String) -> [UInt8] {
        encode(OutputBatch(runId: runId, workerId: workerId, number: 0, events: []), replyNow: false, hello: true)
    }

    /// The delegation of `streams` (in the order of their descriptors); the
    /// writer numbers the run's batches from `nextBatch` and stops storing
    /// output after `capBytes`.
    static func encodeDelegation(runId: Int64, workerId: String, nextBatch: Int64, streams: [String], capBytes: Int64) -> [UInt8] {
        var message = BatchMessage(runId: runId, workerId: workerId, number: nextBatch, replyNow: false, delegation: true)
        for stream in streams {
            message.append(NewEvent(delegatedStreamType, .object([("name", .string(stream)), ("cap", .int(capBytes))])))
        }
        return message.framed()
    }

    /// The type of a delegation's stream entries.
    static let delegatedStreamType = "stream"

    /// The streams and the output cap a delegation names.
    static func delegatedStreams(_ batch: OutputBatch) throws -> (names: [String], capBytes: Int64) {
        var names: [String] = []
        var cap: Int64 = .max
        for event in batch.events {
            let data = try? JSONValue.parse(event.json)
            guard event.type == delegatedStreamType, let name = data?["name"]?.stringValue, let value = data?["cap"]?.intValue else {
                throw MalformedMessage(description: "a delegation names its streams as stream events with a name and a cap")
            }
            names.append(name)
            cap = value
        }
        return (names, cap)
    }

    /// Decodes a batch payload (without its length prefix).
    static func decodeBatch(_ payload: ArraySlice<UInt8>) throws -> Incoming {
        var reader = Reader(bytes: payload)
        let flags = try reader.integer(1)
        let runId = Int64(bitPattern: try reader.integer(8))
        let number = Int64(bitPattern: try reader.integer(8))
        let workerId = try reader.text(Int(reader.integer(2)))
        let counts = OutputCounts(stdout: Int64(bitPattern: try reader.integer(8)), stderr: Int64(bitPattern: try reader.integer(8)),
                                  pty: Int64(bitPattern: try reader.integer(8)))
        let count = Int(try reader.integer(4))
        var events: [NewEvent] = []
        events.reserveCapacity(min(count, 4096))
        for _ in 0..<count {
            let type = try reader.text(Int(reader.integer(1)))
            let data = try reader.text(Int(reader.integer(4)))
            events.append(NewEvent(type, json: data))
        }
        guard reader.atEnd else { throw MalformedMessage(description: "a batch message has trailing bytes") }
        return Incoming(batch: OutputBatch(runId: runId, workerId: workerId, number: number, events: events,
                                           bytes: counts, capsOutput: flags & 8 != 0),
                        replyNow: flags & 1 != 0, hello: flags & 2 != 0, delegation: flags & 4 != 0)
    }

    /// The framed reply to batch `number`.
    static func encode(reply: Reply, number: Int64) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0, 0]
        put(&out, UInt64(bitPattern: number), size: 8)
        let (code, message): (UInt8, String) = switch reply {
        case .stored: (0, "")
        case .refused(let text): (1, text)
        case .failed(let text): (2, text)
        case .notAllowed(let text): (3, text)
        case .requestsWaiting: (4, "")
        case .drain: (5, "")
        case .streamsEnded: (6, "")
        case .outputCapped: (7, "")
        }
        out.append(code)
        out += Array(message.utf8)
        set(&out, at: 0, UInt64(out.count - 4), size: 4)
        return out
    }

    /// Decodes a reply payload (without its length prefix).
    static func decodeReply(_ payload: ArraySlice<UInt8>) throws -> (number: Int64, reply: Reply) {
        var reader = Reader(bytes: payload)
        let number = Int64(bitPattern: try reader.integer(8))
        let code = try reader.integer(1)
        let message = try reader.text(reader.remaining)
        switch code {
        case 0: return (number, .stored)
        case 1: return (number, .refused(message))
        case 2: return (number, .failed(message))
        case 3: return (number, .notAllowed(message))
        case 4: return (number, .requestsWaiting)
        case 5: return (number, .drain)
        case 6: return (number, .streamsEnded)
        case 7: return (number, .outputCapped)
        default: throw MalformedMessage(description: "unknown reply code \(code)")
        }
    }

    /// The payload length announced at the start of `buffer`, if its 4 bytes are there.
    static func announcedLength(_ buffer: ArraySlice<UInt8>) -> Int? {
        guard buffer.count >= 4 else { return nil }
        let start = buffer.startIndex
        return (0..<4).reduce(0) { $0 | Int(buffer[start + $1]) << (8 * $1) }
    }

    /// Appends `value` as `size` little-endian bytes.
    static func put(_ out: inout [UInt8], _ value: UInt64, size: Int) {
        for index in 0..<size { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    /// Writes `value` as `size` little-endian bytes at `offset` (a length or count filled in last).
    static func set(_ out: inout [UInt8], at offset: Int, _ value: UInt64, size: Int) {
        for index in 0..<size { out[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        var remaining: Int { bytes.endIndex - position }
        var atEnd: Bool { position == bytes.endIndex }

        mutating func integer(_ size: Int) throws -> UInt64 {
            guard remaining >= size else { throw MalformedMessage(description: "a message was cut short") }
            var value: UInt64 = 0
            for index in 0..<size { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
            position += size
            return value
        }

        mutating func text(_ size: Int) throws -> String {
            guard remaining >= size else { throw MalformedMessage(description: "a message was cut short") }
            let text = String(decoding: bytes[position..<(position + size)], as: UTF8.self)
            position += size
            return text
        }
    }
}
