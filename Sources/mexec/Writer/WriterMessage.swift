import Foundation
import mdb

/// What an executor sends the host's shared writer over `runs/writer.sock`.
/// A connection serves one run: it opens with a `hello`, then hands over the
/// agent's pipes (`delegate`, their descriptors attached with `SCM_RIGHTS`),
/// and may send events the executor produced itself (`events`). Output
/// itself never crosses the socket: the writer reads the pipes.
enum WriterMessage: Codable, Equatable {
    /// Opens the connection for `runId`, held by `workerId`; `version` is `WriterProtocol.version`.
    case hello(version: Int, runId: Int64, workerId: String)
    /// The writer reads `streams` from now on; the descriptors are each
    /// stream's pipe, then the write end of the executor's consumed pipe for
    /// it. `consumed` is how many bytes of each stream earlier writers
    /// consumed (what the executor read from its consumed pipes), so the
    /// writer skips what is stored and was not consumed yet. Output past
    /// `capBytes` is discarded.
    case delegate(streams: [String], consumed: [Int64], capBytes: Int64)
    /// Events of the run, stored in order, each batch once: `batch` continues
    /// `runs.output_batch`, so a batch sent again after a lost reply is not stored twice.
    case events(batch: Int64, events: [WireEvent])
}

/// What the shared writer answers.
enum WriterReply: Codable, Equatable {
    /// Something new waits for the run in the database (input, a cancel, a diff
    /// request); the first one also confirms the hello.
    case requestsWaiting
    /// This connection may not write for the run (not its executor, or another protocol version).
    case notAllowed(String)
    /// The run takes no more output from this executor (it finished, or its lease went to another).
    case refused(String)
    /// An `events` batch (and every one before it) is stored.
    case stored(batch: Int64)
    /// The commit of an `events` batch failed (the database busy past its timeout, a full disk): send it again.
    case failed(String)
    /// The consumed pipes are full: read them.
    case drain
    /// Every delegated stream ended and all it held is stored.
    case streamsEnded
    /// The run's output reached its cap: what follows is discarded.
    case outputCapped
}

/// An event as it travels in a `WriterMessage`: its type and its data as JSON text.
struct WireEvent: Codable, Equatable {
    var type: String
    var json: String

    init(_ event: NewEvent) {
        type = event.type
        json = event.json
    }

    var event: NewEvent { NewEvent(type, json: json) }
}

/// The framing of `WriterMessage` and `WriterReply`: a little-endian `UInt32`
/// length, then the message as JSON. Only hellos, delegations, rings and
/// executors' own events travel here (output does not), so JSON costs nothing
/// that matters and a person can read a captured conversation.
enum WriterProtocol {
    /// Bumped whenever a message changes meaning; a writer refuses a hello of another version.
    static let version = 2

    /// A message that is not valid JSON for the protocol, or longer than the writer accepts.
    struct MalformedMessage: Error, CustomStringConvertible {
        let description: String
    }

    /// The framed bytes of `value`.
    static func frame<T: Encodable>(_ value: T) -> [UInt8] {
        let json = (try? JSONEncoder().encode(value)) ?? Data()
        let length = UInt32(json.count)
        return [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] + json
    }

    /// Takes every complete frame off the front of `buffer`, decoded.
    static func unframe<T: Decodable>(_ type: T.Type, from buffer: inout [UInt8], maxBytes: Int = 16 << 20) throws -> [T] {
        var decoded: [T] = []
        var start = 0
        while buffer.count - start >= 4 {
            let length = (0..<4).reduce(0) { $0 | Int(buffer[start + $1]) << (8 * $1) }
            guard length <= maxBytes else { throw MalformedMessage(description: "a \(length)-byte message is longer than the writer accepts") }
            guard buffer.count - start - 4 >= length else { break }
            do {
                decoded.append(try JSONDecoder().decode(T.self, from: Data(buffer[(start + 4)..<(start + 4 + length)])))
            } catch {
                throw MalformedMessage(description: "not a \(T.self) of protocol version \(version): \(error)")
            }
            start += 4 + length
        }
        buffer.removeFirst(start)
        return decoded
    }
}
