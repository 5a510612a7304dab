import Foundation
import Logging
import magent
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// An executor's connection to the host's shared output writer. It sends one
/// batch and waits for its reply; nil means "no writer answered, store it
/// yourself". A lost connection is retried at most every
/// `Defaults.outputWriterReconnectMilliseconds`, so a restarted daemon's
/// writer is picked up again.
final class WriterClient {
    private let socketPath: String
    private let logger: Logger
    private var fd: Int32 = -1
    /// Whether the last batch went through the writer (for logging changes only).
    private var usingWriter: Bool?
    private var nextAttempt = Date.distantPast
    /// Set once the writer said this executor may not use it (for the rest of the run).
    private(set) var disabled = false

    init(socketPath: String, logger: Logger) {
        self.socketPath = socketPath
        self.logger = logger
    }

    deinit { disconnect() }

    /// Sends `batch` and returns the writer's reply, or nil if no writer took it.
    func store(_ batch: OutputBatch) -> WriterWire.Reply? {
        let reply = send(batch)
        let through: Bool
        if case .notAllowed? = reply { through = false } else { through = reply != nil }
        if through != usingWriter {
            usingWriter = through
            if through { logger.info("output goes through the shared writer at \(socketPath)") }
            else { logger.info("no shared writer answers at \(socketPath); storing output directly") }
        }
        return reply
    }

    private func send(_ batch: OutputBatch) -> WriterWire.Reply? {
        guard !disabled, connect() else { return nil }
        guard UnixSocket.writeAll(fd: fd, WriterWire.encode(batch)) else { return lost() }
        guard let payload = readMessage(timeoutMilliseconds: Defaults.outputWriterReplyTimeoutMilliseconds),
              let (number, reply) = try? WriterWire.decodeReply(payload[...]), number == batch.number else { return lost() }
        if case .notAllowed = reply {
            disabled = true
            disconnect()
        }
        return reply
    }

    private func connect() -> Bool {
        if fd >= 0 { return true }
        guard Date() >= nextAttempt else { return false }
        nextAttempt = Date().addingTimeInterval(Double(Defaults.outputWriterReconnectMilliseconds) / 1000)
        guard let connected = try? UnixSocket.connect(path: socketPath) else { return false }
        fd = connected
        return true
    }

    /// Forgets a connection that failed mid-batch (the batch's fate is unknown:
    /// its number makes a resend safe).
    private func lost() -> WriterWire.Reply? {
        disconnect()
        nextAttempt = Date().addingTimeInterval(Double(Defaults.outputWriterReconnectMilliseconds) / 1000)
        return nil
    }

    private func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Reads one framed message, waiting at most `timeoutMilliseconds` in all.
    private func readMessage(timeoutMilliseconds: Int) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(Double(timeoutMilliseconds) / 1000)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let length = WriterWire.announcedLength(buffer[...]), buffer.count >= 4 + length {
                return Array(buffer[4..<(4 + length)])
            }
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            if left <= 0 { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left, Int(Int32.max))))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return nil }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
