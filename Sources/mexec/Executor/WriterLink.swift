import CProcess
import Foundation
import Logging
import magent
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// An executor's side of the output path, on a thread of its own: it hands
/// the agent's pipes to the host's shared writer (`OutputWriter`), which
/// reads and stores them, and sleeps on the connection, which also carries
/// the writer's rings for the run's requests and the events the executor
/// posts. The executor never reads or stores output itself.
///
/// With each pipe goes the write end of a "consumed" pipe it keeps: the
/// writer moves stored bytes out of the agent's pipe into it, so what came
/// through it is exactly what was consumed. While no writer answers (the
/// daemon is stopped or restarting) nothing reads the agent's pipes: once
/// they are full the agent waits (back-pressure). When a writer answers
/// again, the executor delegates again with its count of consumed bytes, and
/// the writer skips what is stored beyond it (a notice says the run waited).
final class WriterLink: @unchecked Sendable {
    private struct Stream {
        let name: String
        /// The agent's pipe (or the copy of its terminal), read end.
        let pipe: Int32
        /// Bytes consumed by every writer so far.
        var consumed: Int64 = 0
        /// The read end of the current delegation's consumed pipe.
        var consumedPipe: Int32 = -1
    }

    private let socketPath: String
    private let runId: Int64
    private let holder: String
    /// The run's output cap (the daemon's, or the run's smaller `limits.output_bytes`).
    let capBytes: Int64
    private let bell: RequestBell
    private let logger: Logger
    private var streams: [Stream]
    /// Written to by `stop()` and `post(_:)`; the thread polls it with the connection.
    private let wake: (read: Int32, write: Int32)
    private let finished = DispatchSemaphore(value: 0)
    private let state = NSLock()
    private var _refusal: String?
    private var _capReached = false
    private var _delegated = false
    private var stopping = false
    /// Events posted and not acknowledged yet, oldest first, with their batch numbers.
    private var outbox: [(number: Int64, events: [WireEvent])] = []
    private var nextBatch: Int64
    /// Every stream ended and all of it is stored.
    private var ended = false
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    /// `outputs` are the agent's pipes; `bell` is rung when the writer says something new waits for the run.
    init(db: MDatabase, runId: Int64, holder: String, outputs: [(fd: Int32, stream: String)], capBytes: Int64,
         bell: RequestBell, logger: Logger) throws {
        guard let socketPath = Defaults.outputWriterSocketPath(databasePath: db.path) else {
            throw OutputPathError.socketPathTooLong(databasePath: db.path)
        }
        var fds: [Int32] = [-1, -1]
        guard m_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw OutputPathError.noDescriptors(what: "the writer link's wake pipe", reason: String(cString: strerror(errno)))
        }
        wake = (fds[0], fds[1])
        self.socketPath = socketPath
        self.runId = runId
        self.holder = holder
        self.capBytes = capBytes
        self.bell = bell
        self.logger = logger
        streams = outputs.map { Stream(name: $0.stream, pipe: $0.fd) }
        nextBatch = ((try? db.storedOutputBatch(runId: runId)) ?? 0) + 1
    }

    deinit {
        close(wake.read)
        close(wake.write)
        streams.forEach { if $0.consumedPipe >= 0 { close($0.consumedPipe) } }
    }

    /// Why the run takes no more output from this executor (it finished, or its lease went to another), once it said so.
    var refusal: String? { state.withLock { _refusal } }

    /// True once the run's output reached its cap.
    var capReached: Bool { state.withLock { _capReached } }

    /// True while a writer reads the agent's pipes.
    var isDelegated: Bool { state.withLock { _delegated } }

    /// Starts the link's thread.
    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "writer-link"
        thread.start()
    }

    /// Waits until every stream ended and all of it is stored (or the run refused it, or the link stopped).
    func waitUntilStored(timeoutSeconds: Double) -> Bool {
        guard finished.wait(timeout: .now() + timeoutSeconds) == .success else { return false }
        finished.signal() // stays done for the next caller
        return true
    }

    /// Stores `events` through the writer after what was posted before (once, even across reconnections).
    func post(_ events: [NewEvent]) {
        state.withLock {
            outbox.append((nextBatch, events.map(WireEvent.init)))
            nextBatch += 1
        }
        ring(wake.write)
    }

    /// Closes the connection and ends the thread: the writer lets go of the pipes.
    func stop() {
        state.withLock { stopping = true }
        ring(wake.write)
    }

    private func loop() {
        var waitingSince: Date?
        while !state.withLock({ stopping }) {
            guard let fd = try? UnixSocket.connect(path: socketPath) else {
                if waitingSince == nil {
                    waitingSince = Date()
                    logger.warning("no shared writer answers at \(socketPath); the agent's output waits in its pipes")
                }
                if sleep(milliseconds: Defaults.outputWriterReconnectMilliseconds) { break }
                continue
            }
            if let since = waitingSince, !ended, streams.contains(where: { holdsData($0.pipe) }) {
                let seconds = Int(Date().timeIntervalSince(since).rounded(.up))
                post([NewEvent(EventType.notice, .object([("level", "warning"), ("text", .string(
                    "no output writer answered for about \(seconds) s (the daemon was stopped or restarting): this run's output waited in its pipes meanwhile"))]))])
            }
            waitingSince = nil
            let answered = follow(fd)
            close(fd)
            takeBack()
            if refusal != nil { break }
            // A writer that dropped the connection unanswered (refused it, or was dying) is not asked again at once.
            if !answered && sleep(milliseconds: Defaults.outputWriterReconnectMilliseconds) { break }
        }
        state.withLock { _delegated = false }
        finished.signal()
    }

    /// Sends the hello, the outbox and the delegation, then answers the writer
    /// until the connection ends (or `stop()`); false if the writer never answered the hello.
    private func follow(_ fd: Int32) -> Bool {
        var rung = false
        guard UnixSocket.writeAll(fd: fd, WriterProtocol.frame(WriterMessage.hello(version: WriterProtocol.version, runId: runId,
                                                                                   workerId: holder))) else { return rung }
        // What was sent on a lost connection may be stored or not: its batch numbers tell the writer.
        // Events go before the delegation, ahead of the output read after it.
        var sent = 0
        var delegated = ended
        var buffer: [UInt8] = []
        while true {
            let pending = state.withLock { outbox }
            for item in pending.dropFirst(sent) {
                guard UnixSocket.writeAll(fd: fd, WriterProtocol.frame(WriterMessage.events(batch: item.number, events: item.events))) else {
                    return rung
                }
            }
            sent = pending.count
            if !delegated {
                guard delegate(fd) else { return rung }
                delegated = true
            }
            var pfds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if poll(&pfds, 2, -1) < 0 && errno != EINTR { return rung }
            if pfds[0].revents != 0 {
                while read(wake.read, &scratch, scratch.count) > 0 {}
                if state.withLock({ stopping }) { return rung }
            }
            guard pfds[1].revents != 0 else { continue }
            let n = scratch.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return rung }
            buffer += scratch[0..<n]
            guard let replies = try? WriterProtocol.unframe(WriterReply.self, from: &buffer) else { return rung }
            for reply in replies {
                switch reply {
                case .requestsWaiting:
                    if !rung { logger.info("the shared writer rings this run's requests") }
                    rung = true
                    bell.ring()
                case .drain:
                    drainConsumed(untilEnd: false)
                case .streamsEnded:
                    drainConsumed(untilEnd: false)
                    ended = true
                    state.withLock { _delegated = false }
                    signalIfStored()
                case .outputCapped:
                    state.withLock { _capReached = true }
                case .stored(let batch):
                    state.withLock {
                        let acknowledged = outbox.prefix { $0.number <= batch }.count
                        outbox.removeFirst(acknowledged)
                        sent -= acknowledged
                    }
                    signalIfStored()
                case .refused(let why):
                    logger.warning("run \(runId): output no longer accepted (\(why))")
                    state.withLock { _refusal = why }
                    return rung
                case .notAllowed(let why):
                    logger.warning("the shared writer refused this executor (\(why)); trying again in a second")
                    return false
                case .failed(let why):
                    logger.warning("the shared writer could not store this run's events (\(why)); sending them again")
                    return rung
                }
            }
        }
    }

    /// Hands the pipes over, each with a fresh consumed pipe whose write end goes along.
    private func delegate(_ fd: Int32) -> Bool {
        var descriptors: [Int32] = []
        defer { stride(from: 1, to: descriptors.count, by: 2).forEach { close(descriptors[$0]) } }
        for index in streams.indices {
            var fds: [Int32] = [-1, -1]
            guard m_pipe2(&fds, O_CLOEXEC) == 0 else { return false }
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            // Room for many rounds before the writer must ask for a drain (best effort).
            _ = m_set_pipe_size(fds[1], Defaults.consumedPipeBytes)
            streams[index].consumedPipe = fds[0]
            descriptors += [streams[index].pipe, fds[1]]
        }
        let message = WriterProtocol.frame(WriterMessage.delegate(streams: streams.map(\.name), consumed: streams.map(\.consumed),
                                                                  capBytes: capBytes))
        let sent = message.withUnsafeBytes { m_send_with_fds(fd, $0.baseAddress, UInt($0.count), descriptors, Int32(descriptors.count)) }
        guard sent > 0, sent == message.count || UnixSocket.writeAll(fd: fd, Array(message[sent...])) else { return false }
        state.withLock { _delegated = true }
        logger.info("the shared writer reads this run's \(streams.map(\.name).joined(separator: " and "))")
        return true
    }

    /// After the connection ended: waits until the writer let go of the
    /// consumed pipes (their end), so that the count is exact for the next delegation.
    private func takeBack() {
        guard streams.contains(where: { $0.consumedPipe >= 0 }) else { return }
        drainConsumed(untilEnd: true)
        for index in streams.indices where streams[index].consumedPipe >= 0 {
            close(streams[index].consumedPipe)
            streams[index].consumedPipe = -1
        }
        state.withLock { _delegated = false }
        if !ended {
            logger.info("the shared writer let go of this run's output (\(streams.map { "\($0.name) \($0.consumed)" }.joined(separator: ", ")) byte(s) consumed); delegating again when one answers")
        }
    }

    /// Reads the consumed pipes: what is there now, or until the writer closed them.
    private func drainConsumed(untilEnd: Bool) {
        for index in streams.indices where streams[index].consumedPipe >= 0 {
            while true {
                let n = scratch.withUnsafeMutableBytes { Glibc.read(streams[index].consumedPipe, $0.baseAddress, $0.count) }
                if n > 0 {
                    streams[index].consumed += Int64(n)
                    continue
                }
                if n == 0 || !untilEnd || (n < 0 && errno != EAGAIN && errno != EINTR) { break }
                // A writer stuck mid-commit still holds the pipe: nobody else may read the agent's pipe meanwhile.
                var entry = pollfd(fd: streams[index].consumedPipe, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, -1)
            }
        }
    }

    /// The run's output may end once the streams ended and every posted event is stored.
    private func signalIfStored() {
        if ended && state.withLock({ outbox.isEmpty }) { finished.signal() }
    }

    /// Sleeps up to `milliseconds`; true if `stop()` was called.
    private func sleep(milliseconds: Int) -> Bool {
        var entry = pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, Int32(milliseconds))
        while read(wake.read, &scratch, scratch.count) > 0 {}
        return state.withLock { stopping }
    }

    private func holdsData(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0 && entry.revents & Int16(POLLIN) != 0
    }

    private func ring(_ fd: Int32) {
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
    }
}
