import CProcess
import Foundation
import Logging
import mdb
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// One read from an agent stream.
struct OutputChunk {
    var stream: String
    var bytes: [UInt8]
    /// False for the unfinished character left when a stream ends: it goes
    /// as an event of its own, so the text before it stays text.
    var mergeable = true
}

/// Reads the agent's output streams (pipes or the PTY master) and stores
/// them as `output` events, on one thread: it waits for any stream to be
/// readable, takes everything they hold (up to `outputBufferMaxBytes`), and
/// stores it as one batch; while a batch is being stored the agent's output
/// waits in its pipe, so a slow database back-pressures the agent instead of
/// growing memory, and a flood is batched. Bytes are taken as they come (no
/// waiting for newlines); a character cut between two reads is carried to
/// the next chunk. Adjacent chunks of one stream are merged up to the event
/// size limit. Batches go to the host's shared writer (`OutputWriter`, in the
/// daemon), which commits many runs' batches together; without one the pump
/// stores them itself. One thread per run instead of a reader per stream and
/// a committer: a line costs one wake-up less. When the shared writer
/// answers and the streams are pipes, the pump first hands them to it
/// (`OutputDelegation`) and sleeps; it reads them itself only if the writer
/// gives them back.
final class OutputPump: @unchecked Sendable {
    private let db: MDatabase
    private let runId: Int64
    private let holder: String
    private let outputs: [(fd: Int32, stream: String)]
    private let capBytes: Int64
    private let logger: Logger
    private let finished = DispatchSemaphore(value: 0)
    private let state = NSLock()
    private var _leaseLost = false
    /// Written to by `abandon()`; the pump polls it with the streams.
    private let wake: (read: Int32, write: Int32)
    /// The host's shared writer, if the database has a socket path for one.
    private let writer: WriterClient?
    /// The number of the last batch sent (continuing what the run already stored).
    private var batchNumber: Int64
    /// Batch messages sent to the writer and not acknowledged yet, oldest first.
    private var unacked: [(number: Int64, message: [UInt8])] = []

    /// `bell` is rung when the writer says something new waits for the run.
    init(db: MDatabase, runId: Int64, holder: String, outputs: [(fd: Int32, stream: String)], capBytes: Int64,
         bell: RequestBell? = nil, logger: Logger) throws {
        self.db = db
        self.runId = runId
        self.holder = holder
        self.outputs = outputs
        self.capBytes = capBytes
        self.logger = logger
        var fds: [Int32] = [-1, -1]
        guard m_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw SpawnError(description: "cannot create the output pump's wake pipe: \(String(cString: strerror(errno)))")
        }
        wake = (fds[0], fds[1])
        writer = Defaults.outputWriterSocketPath(databasePath: db.path).map {
            WriterClient(socketPath: $0, runId: runId, workerId: holder, bell: bell, logger: logger)
        }
        batchNumber = (try? db.storedOutputBatch(runId: runId)) ?? 0
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }

    /// True once an append was refused because this executor no longer holds the run.
    var leaseLost: Bool { state.lock(); defer { state.unlock() }; return _leaseLost }

    /// True once the run's output reached its cap (stored here or by the shared writer).
    var capReached: Bool { state.lock(); defer { state.unlock() }; return _capReached }
    private var _capReached = false

    private func noteCapReached() {
        state.lock(); _capReached = true; state.unlock()
    }

    /// Starts the pump's thread.
    func start() {
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "output-pump"
        thread.start()
    }

    /// Stops reading after what the streams hold now: they are held open by a
    /// process that escaped the agent's group, or the lease was lost.
    func abandon() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// Waits until every stream ended and all output was committed (or dropped).
    func waitUntilDone(timeoutSeconds: Double) -> Bool {
        finished.wait(timeout: .now() + timeoutSeconds) == .success
    }

    private struct Source {
        let fd: Int32
        let stream: String
        var carry: [UInt8] = []
        var open = true
    }

    private func loop() {
        var sources = outputs.map { Source(fd: $0.fd, stream: $0.stream) }
        for source in sources { _ = fcntl(source.fd, F_SETFL, fcntl(source.fd, F_GETFL) | O_NONBLOCK) }
        let readSize = Defaults.outputEventMaxBytes - 3 // room for a carried partial character
        var buffer = [UInt8](repeating: 0, count: readSize)
        var capped = false
        var stored: Int64 = 0
        var abandoned = false
        // Whatever happens, everything sent is acknowledged (or stored directly) before the run may end.
        defer { if !unacked.isEmpty && !leaseLost { store(nextMessage(final: true)) } }
        // Pipes go to the host's shared writer, which reads and stores them while this thread sleeps
        // (see `OutputDelegation`); it gives them back if it dies or fails, or the run is abandoned.
        if let writer, let delegation = OutputDelegation.start(writer: writer, runId: runId, holder: holder,
                                                               nextBatch: batchNumber + 1, outputs: outputs,
                                                               capBytes: capBytes, logger: logger) {
            switch delegation.follow(wake: wake.read, capped: { [self] in noteCapReached() }) {
            case .ended:
                return
            case .refused(let why):
                logger.warning("run \(runId): output no longer accepted (\(why)); discarding the rest")
                state.lock(); _leaseLost = true; state.unlock()
            case .takenBack:
                let resume = delegation.takeBack(db: db)
                (stored, capped, batchNumber) = (resume.stored, resume.capped, resume.batchNumber)
                if capped { noteCapReached() }
            }
        }
        // The wake pipe, the writer's replies and rings (a refusal must stop us early), then
        // the streams, one slot each (a closed stream's slot gets fd -1, which poll skips).
        // Kept across iterations: a line costs no allocation here.
        var pfds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0), pollfd(fd: -1, events: Int16(POLLIN), revents: 0)]
        pfds += sources.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while !abandoned && sources.contains(where: \.open) {
            // Connected even while the agent prints nothing: the writer rings the run's requests over it.
            writer?.keepConnected()
            pfds[1].fd = writer?.descriptor ?? -1
            for index in sources.indices { pfds[2 + index].fd = sources[index].open ? sources[index].fd : -1 }
            let ready = poll(&pfds, nfds_t(pfds.count), Int32(writer?.millisecondsUntilRetry ?? -1))
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 { continue }
            if pfds[1].revents != 0 { takeReplies() }
            // Abandoned: take what the streams hold right now, then stop.
            abandoned = pfds[0].revents != 0
            var chunks: [OutputChunk] = []
            var gathered = 0
            for index in sources.indices where sources[index].open {
                guard pfds[2 + index].revents != 0 || abandoned else { continue }
                gathered += drain(&sources[index], buffer: &buffer, into: &chunks,
                                  limit: Defaults.outputBufferMaxBytes - gathered, final: abandoned)
            }
            // After a lost lease or past the cap, keep draining so the agent never blocks on a full pipe.
            if chunks.isEmpty || leaseLost || capped { continue }
            var message = nextMessage(final: !sources.contains(where: \.open))
            append(chunks, to: &message, capped: &capped, stored: &stored)
            store(message)
            if capped { noteCapReached() }
        }
    }

    /// Reads what `source` holds without blocking, up to `limit` bytes; a
    /// closed stream (EOF, or EIO from a PTY whose last slave closed) hands
    /// over its carried bytes and is marked closed. Returns the bytes taken.
    private func drain(_ source: inout Source, buffer: inout [UInt8], into chunks: inout [OutputChunk],
                       limit: Int, final: Bool) -> Int {
        var taken = 0
        while taken < limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(source.fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            if n <= 0 {
                source.open = false
                break
            }
            var bytes = source.carry
            bytes.append(contentsOf: buffer[0..<n])
            let tail = OutputEncoding.incompleteTail(bytes)
            if tail > 0 {
                source.carry = Array(bytes[(bytes.count - tail)...])
                bytes.removeLast(tail)
            } else {
                source.carry.removeAll()
            }
            if !bytes.isEmpty {
                taken += bytes.count
                chunks.append(OutputChunk(stream: source.stream, bytes: bytes))
            }
            // A short read took all the pipe held; asking again would only say EAGAIN
            // (more that comes meanwhile wakes the next poll).
            if n < buffer.count && !final { break }
        }
        if (!source.open || final) && !source.carry.isEmpty {
            taken += source.carry.count
            chunks.append(OutputChunk(stream: source.stream, bytes: source.carry, mergeable: false))
            source.carry.removeAll()
        }
        return taken
    }

    /// Adds a round of chunks to `message` as events: adjacent chunks of a
    /// stream merged up to the event size limit, and the cap's notice once it
    /// is reached.
    private func append(_ chunks: [OutputChunk], to message: inout BatchMessage, capped: inout Bool, stored: inout Int64) {
        let maxEvent = Defaults.outputEventMaxBytes
        var pending: OutputChunk?
        func flush() {
            if let chunk = pending {
                chunk.bytes.withUnsafeBufferPointer { message.appendOutput(stream: chunk.stream, bytes: $0) }
                pending = nil
            }
        }
        for chunk in chunks {
            if stored + Int64(chunk.bytes.count) > capBytes {
                // Exactly the cap is kept: the chunk's head up to it, then the notice.
                let head = Int(capBytes - stored)
                if head > 0 {
                    if var current = pending, current.stream == chunk.stream, current.bytes.count + head <= maxEvent {
                        current.bytes.append(contentsOf: chunk.bytes[..<head])
                        pending = current
                    } else {
                        flush()
                        pending = OutputChunk(stream: chunk.stream, bytes: Array(chunk.bytes[..<head]))
                    }
                    stored += Int64(head)
                }
                flush()
                message.appendCapNotice(capBytes: capBytes)
                capped = true
                break
            }
            stored += Int64(chunk.bytes.count)
            if var current = pending, chunk.mergeable, current.stream == chunk.stream,
               current.bytes.count + chunk.bytes.count <= maxEvent {
                current.bytes.append(contentsOf: chunk.bytes)
                pending = current
            } else {
                flush()
                pending = chunk
            }
        }
        flush()
    }

    /// The next batch, empty. It asks the writer to answer at once every
    /// `outputWriterAckEveryBatches` batches, and when it is `final` (the
    /// streams ended) so that the run's end is recorded after all of its output.
    private func nextMessage(final: Bool) -> BatchMessage {
        batchNumber += 1
        let replyNow = final || unacked.count + 1 >= Defaults.outputWriterAckEveryBatches
        return BatchMessage(runId: runId, workerId: holder, number: batchNumber, replyNow: replyNow)
    }

    /// Stores one batch: sent to the host's shared writer without waiting
    /// (kept until acknowledged), or stored directly when no writer takes it.
    private func store(_ message: BatchMessage) {
        var message = message
        let framed = message.framed()
        if let writer, writer.send(framed) {
            unacked.append((message.number, framed))
            if message.replyNow { awaitAcknowledgement(of: message.number) }
            return
        }
        resync()
        storeDirectly(framed)
    }

    /// Handles the replies that came without being waited for (a refusal, a failure).
    private func takeReplies() {
        guard let writer else { return }
        guard let replies = writer.replies() else { return resync() }
        replies.forEach(handle)
    }

    /// Waits until the writer acknowledged batch `number`; a lost connection
    /// or a failure stores what is unacknowledged directly.
    private func awaitAcknowledgement(of number: Int64) {
        while !leaseLost, let first = unacked.first, first.number <= number {
            guard let replies = writer?.replies(waitMilliseconds: Defaults.outputWriterReplyTimeoutMilliseconds) else {
                return resync()
            }
            replies.forEach(handle)
        }
    }

    private func handle(_ reply: (number: Int64, reply: WriterWire.Reply)) {
        switch reply.reply {
        case .stored:
            unacked.removeAll { $0.number <= reply.number }
        case .refused(let why):
            logger.warning("run \(runId): output no longer accepted (\(why)); discarding the rest")
            state.lock(); _leaseLost = true; state.unlock()
            unacked = []
        case .failed(let why):
            logger.error("run \(runId): the shared writer could not store batch \(reply.number) (\(why)); storing directly")
            writer?.lost()
            resync()
        case .notAllowed:
            resync()
        case .requestsWaiting, .drain, .streamsEnded, .outputCapped:
            break // rung by the writer client itself; the others only answer a delegation
        }
    }

    /// Stores, directly and in order, the batches sent to a writer that did
    /// not acknowledge them (it died, timed out or failed): what it did store
    /// is known from `runs.output_batch`.
    private func resync() {
        guard !unacked.isEmpty else { return }
        let pending = unacked
        unacked = []
        for sent in pending where !leaseLost { storeDirectly(sent.message) }
    }

    /// Stores one framed batch message directly (decoded: this is the rare path).
    private func storeDirectly(_ message: [UInt8]) {
        do {
            storeDirectly(try WriterWire.decodeBatch(message[4...]).batch)
        } catch {
            logger.error("run \(runId): cannot read back an output batch to store it (\(error))")
        }
    }

    /// Stores one batch directly. A lost lease stops storing for good;
    /// anything else (a database busy beyond its timeout, a full disk) is
    /// retried for a while, holding the pump back, before the batch is given
    /// up and logged (its number is then used by the next batch).
    private func storeDirectly(_ batch: OutputBatch) {
        for attempt in 1...50 {
            do {
                switch try db.appendOutputBatches([batch]).first {
                case .refused(let error)?:
                    logger.warning("run \(runId): output no longer accepted (\(error)); discarding the rest")
                    state.lock(); _leaseLost = true; state.unlock()
                    return
                case .outOfOrder(let expected)?:
                    // An earlier batch was given up (or the number was a guess past anything
                    // stored): renumber to close the gap, and number the next ones after it.
                    var renumbered = batch
                    renumbered.number = expected
                    batchNumber = expected
                    if batch.number != expected { return storeDirectly(renumbered) }
                    return
                default:
                    return
                }
            } catch {
                logger.error("run \(runId): cannot store output (attempt \(attempt)): \(error)")
            }
            usleep(100_000)
        }
        batchNumber = batch.number - 1
        logger.error("run \(runId): gave up storing \(batch.events.count) output event(s)")
    }
}
