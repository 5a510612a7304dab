import mdb

/// A batch message of `WriterWire`, built in place. The output pump writes an
/// agent's bytes straight into it as escaped JSON (no `NewEvent`, `String` or
/// second copy per chunk: building those was a third of an executor's CPU per
/// line), and `WriterWire.encode` builds every other batch message with it.
struct BatchMessage {
    /// The batch's number.
    let number: Int64
    /// Whether the sender waits for the answer to this batch.
    let replyNow: Bool
    private var bytes: [UInt8]
    private var eventCount: UInt32 = 0
    /// Where the byte counts and the event count go (after the worker id).
    private let countOffset: Int
    /// The output bytes appended, per stream.
    private var counts = OutputCounts()

    /// An empty batch for `runId`; `hello` makes it a connection's first message,
    /// `delegation` a delegation (see `WriterWire`).
    init(runId: Int64, workerId: String, number: Int64, replyNow: Bool, hello: Bool = false, delegation: Bool = false) {
        self.number = number
        self.replyNow = replyNow
        bytes = [0, 0, 0, 0, (replyNow ? 1 : 0) | (hello ? 2 : 0) | (delegation ? 4 : 0)]
        bytes.reserveCapacity(256)
        WriterWire.put(&bytes, UInt64(bitPattern: runId), size: 8)
        WriterWire.put(&bytes, UInt64(bitPattern: number), size: 8)
        let worker = workerId.utf8.prefix(Int(UInt16.max))
        WriterWire.put(&bytes, UInt64(worker.count), size: 2)
        bytes.append(contentsOf: worker)
        countOffset = bytes.count
        WriterWire.put(&bytes, 0, size: 8 * 3 + 4)
    }

    /// Adds an event whose data is already JSON text.
    mutating func append(_ event: NewEvent) {
        appendEvent(type: event.type) { $0.append(contentsOf: event.json.utf8) }
    }

    /// Adds an `output` event for `output`, a chunk of `stream` (see `OutputEncoding`).
    mutating func appendOutput(stream: String, bytes output: UnsafeBufferPointer<UInt8>) {
        counts[stream] += Int64(output.count)
        appendEvent(type: EventType.output) { OutputEncoding.appendJSON(stream: stream, bytes: output, to: &$0) }
    }

    /// The framed message, its length and event count filled in (shares the
    /// buffer: no copy).
    /// Adds the notice that the run's output reached `capBytes` (the batch then caps the run's output).
    mutating func appendCapNotice(capBytes: Int64) {
        bytes[4] |= 8
        append(OutputEncoding.capNotice(capBytes: capBytes))
    }

    mutating func framed() -> [UInt8] {
        for (index, count) in [counts.stdout, counts.stderr, counts.pty].enumerated() {
            WriterWire.set(&bytes, at: countOffset + 8 * index, UInt64(count), size: 8)
        }
        WriterWire.set(&bytes, at: countOffset + 24, UInt64(eventCount), size: 4)
        WriterWire.set(&bytes, at: 0, UInt64(bytes.count - 4), size: 4)
        return bytes
    }

    /// Type (u8 length + UTF-8), then data (u32 length + JSON text) as `writeData` writes it.
    private mutating func appendEvent(type: String, writeData: (inout [UInt8]) -> Void) {
        let name = type.utf8.prefix(255)
        bytes.append(UInt8(name.count))
        bytes.append(contentsOf: name)
        let lengthOffset = bytes.count
        WriterWire.put(&bytes, 0, size: 4)
        writeData(&bytes)
        WriterWire.set(&bytes, at: lengthOffset, UInt64(bytes.count - lengthOffset - 4), size: 4)
        eventCount += 1
    }
}
