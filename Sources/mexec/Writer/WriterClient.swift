import CProcess
import Foundation
import Logging
import magent
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// An executor's connection to the host's shared output writer. Each
/// connection opens with a hello for the run, after which the writer rings
/// `bell` whenever something new waits for the run. Batches are sent without
/// waiting (see `WriterWire`); replies are read when the pump's poll says
/// they came, or awaited for a batch sent with "reply now". A lost connection
/// is retried at most every `Defaults.outputWriterReconnectMilliseconds`, so a
/// restarted daemon's writer is picked up again.
final class WriterClient {
    private let socketPath: String
    private let runId: Int64
    private let workerId: String
    private let bell: RequestBell?
    private let logger: Logger
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var nextAttempt = Date.distantPast
    /// Whether output last went through the writer (for logging changes only).
    private var usingWriter: Bool?
    /// Set once the writer said this executor may not use it (for the rest of the run).
    private(set) var disabled = false

    init(socketPath: String, runId: Int64, workerId: String, bell: RequestBell?, logger: Logger) {
        self.socketPath = socketPath
        self.runId = runId
        self.workerId = workerId
        self.bell = bell
        self.logger = logger
    }

    deinit { disconnect() }

    /// The connection to poll for replies, while there is one.
    var descriptor: Int32? { fd >= 0 ? fd : nil }

    /// Connects (with its hello) if there is no connection and a retry is
    /// due, so the run is rung for its requests even while it prints nothing.
    /// True while connected.
    @discardableResult
    func keepConnected() -> Bool {
        !disabled && connect()
    }

    /// Milliseconds until the next connection attempt is due (nil while connected, or for good without one).
    var millisecondsUntilRetry: Int? {
        guard fd < 0, !disabled else { return nil }
        return max(0, Int((nextAttempt.timeIntervalSinceNow * 1000).rounded(.up)))
    }

    /// Sends a framed batch message (`BatchMessage`); false if no writer took it (store it yourself).
    func send(_ message: [UInt8]) -> Bool {
        guard !disabled, connect() else {
            note(through: false)
            return false
        }
        guard UnixSocket.writeAll(fd: fd, message) else {
            lost()
            return false
        }
        note(through: true)
        return true
    }

    /// Sends a framed message with `descriptors` attached (a delegation); false if no writer took it.
    func send(_ message: [UInt8], descriptors: [Int32]) -> Bool {
        guard !disabled, connect() else { return false }
        var sent = 0
        while sent == 0 {
            let n = message.withUnsafeBytes { m_send_with_fds(fd, $0.baseAddress, UInt($0.count), descriptors, Int32(descriptors.count)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                lost()
                return false
            }
            sent = n
        }
        guard sent == message.count || UnixSocket.writeAll(fd: fd, Array(message[sent...])) else {
            lost()
            return false
        }
        note(through: true)
        return true
    }

    /// The replies that came: without `waitMilliseconds`, only those already
    /// there; with it, at least one unless the time runs out. Nil when the
    /// connection is lost (closed, timed out, or unreadable).
    func replies(waitMilliseconds: Int? = nil) -> [(number: Int64, reply: WriterWire.Reply)]? {
        guard fd >= 0 else { return nil }
        let deadline = Date().addingTimeInterval(Double(waitMilliseconds ?? 0) / 1000)
        var chunk = [UInt8](repeating: 0, count: 4096)
        var taken: [(number: Int64, reply: WriterWire.Reply)] = []
        while true {
            while let length = WriterWire.announcedLength(buffer[...]), buffer.count >= 4 + length {
                guard let reply = try? WriterWire.decodeReply(buffer[4..<(4 + length)]) else {
                    lost()
                    return nil
                }
                buffer.removeFirst(4 + length)
                switch reply.reply {
                case .requestsWaiting:
                    if let bell, !bell.isLive { logger.info("the shared writer rings this run's requests") }
                    bell?.ring()
                    continue
                case .notAllowed(let why):
                    logger.warning("the shared writer refused this executor (\(why)); storing output directly")
                    disabled = true
                default:
                    break
                }
                taken.append(reply)
            }
            if !taken.isEmpty {
                if disabled { disconnect() }
                return taken
            }
            if waitMilliseconds != nil {
                let left = Int(deadline.timeIntervalSinceNow * 1000)
                if left <= 0 || !readable(timeoutMilliseconds: left) {
                    lost()
                    return nil
                }
            } else if !readable(timeoutMilliseconds: 0) {
                return []
            }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                lost()
                return nil
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// Forgets a connection that failed: what was sent on it may or may not
    /// be stored (batch numbers make a resend safe).
    func lost() {
        disconnect()
        nextAttempt = Date().addingTimeInterval(Double(Defaults.outputWriterReconnectMilliseconds) / 1000)
    }

    private func readable(timeoutMilliseconds: Int) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&pfd, 1, Int32(min(timeoutMilliseconds, Int(Int32.max))))
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    private func connect() -> Bool {
        if fd >= 0 { return true }
        guard Date() >= nextAttempt else { return false }
        nextAttempt = Date().addingTimeInterval(Double(Defaults.outputWriterReconnectMilliseconds) / 1000)
        guard let connected = try? UnixSocket.connect(path: socketPath) else { return false }
        guard UnixSocket.writeAll(fd: connected, WriterWire.encodeHello(runId: runId, workerId: workerId)) else {
            close(connected)
            return false
        }
        fd = connected
        buffer = []
        return true
    }

    private func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer = []
        bell?.silence()
    }

    private func note(through: Bool) {
        guard through != usingWriter else { return }
        usingWriter = through
        if through { logger.info("output goes through the shared writer at \(socketPath)") }
        else { logger.info("no shared writer answers at \(socketPath); storing output directly") }
    }
}
