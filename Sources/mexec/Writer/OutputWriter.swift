import CProcess
import Foundation
import Logging
import magent
import mdb
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host's shared output writer, a service of the daemon: executors send
/// their output batches over a Unix socket and it stores the batches of every
/// run that arrived while the previous commit ran in one transaction (a group
/// commit across runs). Fifty busy runs then cost a few hundred commits a
/// second from one connection with a warm page cache, instead of ten thousand
/// from fifty processes contending for the write lock.
///
/// One daemon per database serves it (it holds `writer.lock`); the others
/// keep trying to take over, so the socket is served again soon after its
/// daemon stops. Executors that find no writer store their batches
/// themselves; batch numbers make either path store each batch once.
struct OutputWriter: Service {
    let databasePath: String
    let logger: Logger

    func run() async throws {
        guard let socketPath = Defaults.outputWriterSocketPath(databasePath: databasePath) else {
            logger.warning("the database path is too long for a writer socket; executors write their output themselves")
            return
        }
        // Its checkpoints run on another thread (below), not inside its commits.
        let db = try MDatabase(path: databasePath, autoCheckpointPages: Defaults.outputWriterAutoCheckpointPages,
                               walWriteBuffer: true)
        let checkpointer = Unchecked(try Checkpointer(path: databasePath))
        let stop = Atomic<Bool>(false)
        let bells = try RequestBells(db: db)
        let box = Unchecked(try WriterLoop(db: db, socketPath: socketPath,
                                           lockPath: Defaults.outputWriterLockPath(databasePath: databasePath),
                                           bells: bells, logger: logger))
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                // The checkpointer stops with the writer (it checks `stop` every interval).
                let checkpoints = Thread {
                    // Every interval while commits come, every second when idle.
                    var idle = false
                    while !stop.load(ordering: .relaxed) {
                        usleep(UInt32(idle ? 1_000 : Defaults.checkpointIntervalMilliseconds) * 1000)
                        do { idle = try checkpointer.value.checkpointIfChanged() == nil } catch {
                            logger.warning("checkpoint failed: \(error); SQLite's own will run instead")
                        }
                    }
                }
                checkpoints.name = "checkpointer"
                checkpoints.start()
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        box.value.run(stop: stop)
                        done.resume()
                    }
                    thread.name = "output-writer"
                    thread.start()
                }
            } onCancel: {
                stop.store(true, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            stop.store(true, ordering: .relaxed)
        }
    }
}

/// The writer's thread: takes the lock when it can, accepts executors, reads
/// their batches and the pipes they delegated, commits them in rounds, and
/// rings executors whose run has new requests.
private final class WriterLoop {
    /// A batch read from a connection (or from a delegated run's pipes), and whether its sender waits for the reply.
    struct Incoming {
        let fd: Int32
        let batch: OutputBatch
        let replyNow: Bool
        /// Read by the writer from the run's pipes (`DelegatedOutput`).
        var delegated = false
    }

    private struct Client {
        let fd: Int32
        let peer: pid_t?
        var buffer: [UInt8] = []
        /// Descriptors that came with the bytes in `buffer`, oldest first (a delegation's).
        var descriptors: [Int32] = []
        /// Runs this connection was checked against (its peer is their executor).
        var allowedRuns: Set<Int64> = []
    }

    private let db: MDatabase
    private let socketPath: String
    private let lockPath: String
    private let logger: Logger
    private let bells: RequestBells
    private var lockFd: Int32 = -1
    private var listener: Int32 = -1
    private var clients: [Int32: Client] = [:]
    private var lastLockAttempt = Date.distantPast
    /// One read buffer for every client (the loop is single-threaded).
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)
    /// The pipes executors handed over.
    private let delegated: DelegatedOutput

    init(db: MDatabase, socketPath: String, lockPath: String, bells: RequestBells, logger: Logger) throws {
        self.db = db
        self.socketPath = socketPath
        self.lockPath = lockPath
        self.bells = bells
        self.logger = logger
        delegated = try DelegatedOutput(logger: logger)
    }

    func run(stop: borrowing Atomic<Bool>) {
        defer { shutdown() }
        while !stop.load(ordering: .relaxed) {
            if listener < 0 && Date().timeIntervalSince(lastLockAttempt) >= 1 { takeOverIfFree() }
            if listener < 0 && clients.isEmpty {
                usleep(1_000_000)
                continue
            }
            // A second at most, to notice `stop` and to retry the lock; sooner when a look at the requests
            // is due, at once when a delegated pipe has more, every 10 ms while stored bytes wait to be consumed.
            var batches: [Incoming] = []
            let wait = delegated.hasReadyStreams ? 0 : bells.microsecondsUntilDue(cap: delegated.hasUnconsumed ? 10_000 : 1_000_000)
            let collected = collect(into: &batches, timeoutMicroseconds: wait)
            ringIfDue()
            tell(delegated.consumeAll())
            if !collected && !delegated.hasReadyStreams { continue }
            // Group commit across runs: while other executors are connected, give
            // them a moment to send theirs too, then take what came. It sleeps
            // rather than polls: under load a poll would wake it for every batch
            // (ten thousand times a second), a sleep once per round. A lone run
            // is committed at once.
            if (!batches.isEmpty || delegated.hasReadyStreams) && clients.count > 1 {
                usleep(UInt32(Defaults.outputWriterGatherMicroseconds))
                _ = collect(into: &batches, timeoutMicroseconds: 0)
            }
            let (rounds, notices) = delegated.read()
            tell(notices)
            batches += rounds.map { Incoming(fd: $0.client, batch: $0.batch, replyNow: false, delegated: true) }
            if !batches.isEmpty { commit(batches) }
        }
    }

    /// Waits up to `timeoutMicroseconds` for the listener or a client, then
    /// accepts and reads whatever is ready; false if nothing was.
    private func collect(into batches: inout [Incoming], timeoutMicroseconds: Int) -> Bool {
        var fds = [pollfd(fd: delegated.descriptor, events: Int16(POLLIN), revents: 0)]
        if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
        for fd in clients.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        if m_poll_micros(&fds, UInt(fds.count), timeoutMicroseconds) <= 0 { return false }
        for entry in fds where entry.revents != 0 {
            if entry.fd == delegated.descriptor { delegated.takeEdges() }
            else if entry.fd == listener { acceptAll() }
            else { read(from: entry.fd, into: &batches) }
        }
        return true
    }

    /// Becomes the writer if no live daemon holds the lock.
    private func takeOverIfFree() {
        lastLockAttempt = Date()
        if lockFd < 0 {
            let directory = (lockPath as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
            lockFd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if lockFd < 0 { return }
        }
        guard flock(lockFd, LOCK_EX | LOCK_NB) == 0 else { return }
        do {
            listener = try UnixSocket.listen(path: socketPath, backlog: 128)
            _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
            logger.info("serving the shared output writer at \(socketPath)")
        } catch {
            logger.warning("cannot serve the shared output writer: \(error); executors write their output themselves")
            flock(lockFd, LOCK_UN)
        }
    }

    private func acceptAll() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            clients[fd] = Client(fd: fd, peer: UnixSocket.peerProcess(fd: fd))
        }
    }

    /// Reads what a client sent and takes its complete batches; drops a client
    /// that hung up or sent something unreadable (it then stores its output itself).
    private func read(from fd: Int32, into batches: inout [Incoming]) {
        guard var client = clients[fd] else { return }
        // Dropping closes the descriptors that came with what was read so far, too.
        func dropClient() {
            clients[fd] = client
            drop(fd)
        }
        var received = [Int32](repeating: -1, count: 16)
        while true {
            var count: Int32 = 0
            let n = chunk.withUnsafeMutableBytes { m_recv_with_fds(fd, $0.baseAddress, UInt($0.count), &received, 16, &count) }
            client.descriptors += received[0..<Int(count)]
            // A delegation brings two per stream; more waiting than that is not an executor's doing.
            if client.descriptors.count > 16 {
                logger.warning("a connection sent descriptors no delegation asked for; closing it")
                return dropClient()
            }
            if n > 0 {
                client.buffer.append(contentsOf: chunk[0..<n])
                // A short read took all the socket held: asking again would only say EAGAIN
                // (what comes meanwhile wakes the next poll).
                if n < chunk.count { break }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            if n < 0 && errno == EINTR { continue }
            return dropClient()
        }
        var start = 0
        while let length = WriterWire.announcedLength(client.buffer[start...]) {
            guard length <= Defaults.outputWriterMaxFrameBytes else {
                logger.warning("an executor sent a \(length)-byte message, more than the writer accepts; closing its connection")
                return dropClient()
            }
            guard client.buffer.count - start - 4 >= length else { break }
            do {
                let message = try WriterWire.decodeBatch(client.buffer[(start + 4)..<(start + 4 + length)])
                if message.hello {
                    clients[fd] = client
                    guard register(fd: fd, runId: message.batch.runId) else { return }
                    client = clients[fd]!
                } else if message.delegation {
                    let (names, capBytes) = try WriterWire.delegatedStreams(message.batch)
                    guard client.descriptors.count >= names.count * 2 else {
                        throw WriterWire.MalformedMessage(description: "a delegation came without its descriptors")
                    }
                    let descriptors = Array(client.descriptors.prefix(names.count * 2))
                    client.descriptors.removeFirst(names.count * 2)
                    clients[fd] = client
                    guard delegate(fd: fd, batch: message.batch, names: names, capBytes: capBytes, descriptors: descriptors) else { return }
                    client = clients[fd]!
                } else {
                    batches.append(Incoming(fd: fd, batch: message.batch, replyNow: message.replyNow))
                }
            } catch {
                logger.warning("an executor sent an unreadable batch (\(error)); closing its connection")
                return dropClient()
            }
            start += 4 + length
        }
        if start > 0 { client.buffer.removeFirst(start) }
        clients[fd] = client
    }

    /// Stores every batch of the round in one transaction. A stored batch is
    /// answered only when its sender asked for a reply now (a cumulative
    /// acknowledgement); a batch not stored is always answered, and a sender
    /// whose batch failed or came out of order is dropped after the answer (it
    /// then sends again, directly, from what the database holds).
    private func commit(_ round: [Incoming]) {
        var replies: [(fd: Int32, number: Int64, reply: WriterWire.Reply)] = []
        var accepted: [Incoming] = []
        var dropAfterReply = Set<Int32>()
        for incoming in round where !dropAfterReply.contains(incoming.fd) {
            if let why = refusal(fd: incoming.fd, runId: incoming.batch.runId) {
                replies.append((incoming.fd, incoming.batch.number, .notAllowed(why)))
                dropAfterReply.insert(incoming.fd)
            } else {
                accepted.append(incoming)
            }
        }
        accepted.removeAll { dropAfterReply.contains($0.fd) }
        do {
            let outcomes = try db.appendOutputBatches(accepted.map(\.batch))
            for (incoming, outcome) in zip(accepted, outcomes) where !dropAfterReply.contains(incoming.fd) {
                let number = incoming.batch.number
                if incoming.delegated {
                    switch outcome {
                    case .stored:
                        tell(delegated.stored(runId: incoming.batch.runId, batch: number))
                    case .refused(let error):
                        delegated.remove(runId: incoming.batch.runId)
                        replies.append((incoming.fd, number, .refused(error.description)))
                    case .alreadyStored, .outOfOrder:
                        // Someone else stored this run's output meanwhile: the executor takes it back.
                        logger.warning("run \(incoming.batch.runId): delegated batch \(number) was \(outcome); giving the run's output back to its executor")
                        dropAfterReply.insert(incoming.fd)
                    }
                    continue
                }
                switch outcome {
                case .stored, .alreadyStored:
                    if incoming.replyNow { replies.append((incoming.fd, number, .stored)) }
                case .refused(let error):
                    replies.append((incoming.fd, number, .refused(error.description)))
                case .outOfOrder(let expected):
                    replies.append((incoming.fd, number, .failed("batch \(number) came before batch \(expected)")))
                    dropAfterReply.insert(incoming.fd)
                }
            }
        } catch {
            logger.error("cannot store \(accepted.count) output batch(es): \(error); the executors will send them again")
            for incoming in accepted where incoming.delegated { delegated.notStored(runId: incoming.batch.runId) }
            for incoming in accepted where !dropAfterReply.contains(incoming.fd) {
                replies.append((incoming.fd, incoming.batch.number, .failed("\(error)")))
                dropAfterReply.insert(incoming.fd)
            }
        }
        for (fd, number, reply) in replies where clients[fd] != nil {
            if !UnixSocket.writeAll(fd: fd, WriterWire.encode(reply: reply, number: number)) { drop(fd) }
        }
        for fd in dropAfterReply where clients[fd] != nil { drop(fd) }
    }

    /// Registers the connection to be rung for `runId`'s requests, after the
    /// same check as for its output; the first ring (at once) confirms it.
    /// False when the connection was refused (and dropped).
    private func register(fd: Int32, runId: Int64) -> Bool {
        if let why = refusal(fd: fd, runId: runId) {
            _ = UnixSocket.writeAll(fd: fd, WriterWire.encode(reply: .notAllowed(why), number: 0))
            drop(fd)
            return false
        }
        bells.watch(fd: fd, runId: runId)
        ring(fd)
        return true
    }

    /// Starts reading the pipes of the run a delegation names, after the same
    /// check as for its output. False when the connection was refused (and dropped).
    private func delegate(fd: Int32, batch: OutputBatch, names: [String], capBytes: Int64, descriptors: [Int32]) -> Bool {
        if let why = refusal(fd: fd, runId: batch.runId) {
            descriptors.forEach { close($0) }
            _ = UnixSocket.writeAll(fd: fd, WriterWire.encode(reply: .notAllowed(why), number: 0))
            drop(fd)
            return false
        }
        guard delegated.add(runId: batch.runId, workerId: batch.workerId, client: fd, nextBatch: batch.number,
                            names: names, capBytes: capBytes, descriptors: descriptors) else {
            logger.warning("run \(batch.runId): cannot read its delegated output; its executor reads it again")
            drop(fd)
            return false
        }
        logger.info("run \(batch.runId): reading its \(names.joined(separator: " and ")) here (delegated by its executor)")
        return true
    }

    /// Tells executors what became of their delegated output.
    private func tell(_ notices: [DelegatedOutput.Notice]) {
        for notice in notices {
            let (fd, reply, number): (Int32, WriterWire.Reply, Int64) = switch notice {
            case .drain(let client): (client, .drain, 0)
            case .ended(let client, let lastBatch): (client, .streamsEnded, lastBatch)
            case .capped(let client): (client, .outputCapped, 0)
            }
            if clients[fd] != nil, !UnixSocket.writeAll(fd: fd, WriterWire.encode(reply: reply, number: number)) { drop(fd) }
        }
    }

    /// Looks at every watched run's requests when due and rings the executors
    /// of those with something new.
    private func ringIfDue() {
        for fd in bells.ringIfDue(logger: logger) where clients[fd] != nil { ring(fd) }
    }

    private func ring(_ fd: Int32) {
        if !UnixSocket.writeAll(fd: fd, WriterWire.encode(reply: .requestsWaiting, number: 0)) { drop(fd) }
    }

    /// Why this connection may not write for `runId` (nil: it may): only the
    /// run's recorded executor process writes its output.
    private func refusal(fd: Int32, runId: Int64) -> String? {
        guard var client = clients[fd] else { return "connection closed" }
        if client.allowedRuns.contains(runId) { return nil }
        let executor = try? db.processes(runId: runId).executorPid
        guard let peer = client.peer, let executor, peer == executor else {
            return "this connection is not run \(runId)'s executor (peer \(client.peer.map(String.init) ?? "?"), executor \(executor.map { String($0) } ?? "not recorded"))"
        }
        client.allowedRuns.insert(runId)
        clients[fd] = client
        return nil
    }

    /// Closes a connection; the runs it delegated go back to their executor
    /// (closing their consumed pipes tells it how much was consumed).
    private func drop(_ fd: Int32) {
        clients[fd]?.descriptors.forEach { close($0) }
        clients[fd] = nil
        bells.forget(fd: fd)
        delegated.removeRuns(of: fd)
        close(fd)
    }

    private func shutdown() {
        for fd in Array(clients.keys) { drop(fd) }
        clients = [:]
        if listener >= 0 {
            close(listener)
            unlink(socketPath)
            listener = -1
        }
        if lockFd >= 0 { close(lockFd) }
    }
}
