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

/// The host's shared output writer, a service of the daemon and the only
/// path by which output reaches the database: executors hand it their
/// agents' pipes over a Unix socket (`WriterMessage`), it reads them
/// (`DelegatedOutput`) and stores what every run printed while the previous
/// commit ran in one transaction (a group commit across runs). Busy runs then
/// cost one commit per round from one connection with a warm page cache,
/// instead of a commit per line from every executor contending for the write
/// lock, and an executor sleeps while its agent prints.
///
/// One daemon per database serves it (it holds `writer.lock`); the others
/// keep trying to take over, so the socket is served again soon after its
/// daemon stops. Meanwhile agents' output waits in their pipes.
struct OutputWriter: Service {
    let databasePath: String
    let logger: Logger

    func run() async throws {
        // `ExecOptions.validate` refused a database path too long for it.
        guard let socketPath = Defaults.outputWriterSocketPath(databasePath: databasePath) else { return }
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
                    checkpointer.value.run(intervalMilliseconds: Defaults.checkpointIntervalMilliseconds,
                                           stop: { stop.load(ordering: .relaxed) }) {
                        logger.warning("checkpoint failed: \($0); SQLite's own will run instead")
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
/// their messages and the pipes they delegated, commits in rounds, and rings
/// executors whose run has new requests.
private final class WriterLoop {
    private struct Client {
        let fd: Int32
        let peer: pid_t?
        var buffer: [UInt8] = []
        /// Descriptors that came with the bytes in `buffer`, oldest first (a delegation's).
        var descriptors: [Int32] = []
        /// The run this connection serves, once its hello passed the check (its peer is the run's executor).
        var run: (id: Int64, workerId: String)?
    }

    /// An executor's own events, waiting for the round's commit.
    private typealias Posted = (fd: Int32, batch: OutputBatch)

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
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)
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
            var posted: [Posted] = []
            let wait = delegated.hasReadyStreams ? 0 : bells.microsecondsUntilDue(cap: delegated.hasUnconsumed ? 10_000 : 1_000_000)
            let collected = collect(into: &posted, timeoutMicroseconds: wait)
            ringIfDue()
            tell(delegated.consumeAll())
            if !collected && !delegated.hasReadyStreams { continue }
            // Group commit across runs: while other executors are connected, give
            // them a moment to print too, then take what came. It sleeps rather
            // than polls: under load a poll would wake it for every line, a sleep
            // once per round. A lone run is committed at once.
            if clients.count > 1 {
                usleep(UInt32(Defaults.outputWriterGatherMicroseconds))
                _ = collect(into: &posted, timeoutMicroseconds: 0)
            }
            let (rounds, notices) = delegated.read()
            tell(notices)
            if !rounds.isEmpty || !posted.isEmpty { commit(rounds, posted) }
        }
    }

    /// Waits up to `timeoutMicroseconds` for the listener, a client or a
    /// delegated pipe, then takes whatever is ready; false if nothing was.
    private func collect(into posted: inout [Posted], timeoutMicroseconds: Int) -> Bool {
        var fds = [pollfd(fd: delegated.descriptor, events: Int16(POLLIN), revents: 0)]
        if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
        for fd in clients.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        if m_poll_micros(&fds, UInt(fds.count), timeoutMicroseconds) <= 0 { return false }
        for entry in fds where entry.revents != 0 {
            if entry.fd == delegated.descriptor { delegated.takeEdges() }
            else if entry.fd == listener { acceptAll() }
            else { read(from: entry.fd, into: &posted) }
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
            logger.error("cannot serve the shared output writer: \(error); agents' output waits in their pipes until a daemon can")
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

    /// Reads what a client sent and acts on its complete messages; drops a
    /// client that hung up or sent something unreadable (its runs' pipes go
    /// back to their executors).
    private func read(from fd: Int32, into posted: inout [Posted]) {
        guard var client = clients[fd] else { return }
        var received = [Int32](repeating: -1, count: 16)
        var hungUp = false
        while true {
            var count: Int32 = 0
            let n = chunk.withUnsafeMutableBytes { m_recv_with_fds(fd, $0.baseAddress, UInt($0.count), &received, 16, &count) }
            client.descriptors += received[0..<Int(count)]
            if n > 0 {
                client.buffer.append(contentsOf: chunk[0..<n])
                // A short read took all the socket held (what comes meanwhile wakes the next poll).
                if n < chunk.count { break }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            hungUp = !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break
        }
        let messages: [WriterMessage]
        do {
            messages = try WriterProtocol.unframe(WriterMessage.self, from: &client.buffer, maxBytes: Defaults.outputWriterMaxFrameBytes)
        } catch {
            logger.warning("an executor sent an unreadable message (\(error)); closing its connection")
            clients[fd] = client
            return drop(fd)
        }
        clients[fd] = client
        for message in messages {
            guard clients[fd] != nil else { return }
            handle(message, from: fd, into: &posted)
        }
        // A delegation brings two per stream; more waiting than that is not an executor's doing.
        if let left = clients[fd]?.descriptors.count, left > 16 {
            logger.warning("a connection sent descriptors no delegation asked for; closing it")
            return drop(fd)
        }
        if hungUp { drop(fd) }
    }

    private func handle(_ message: WriterMessage, from fd: Int32, into posted: inout [Posted]) {
        switch message {
        case .hello(let version, let runId, let workerId):
            guard version == WriterProtocol.version else {
                return refuse(fd, "this writer speaks protocol version \(WriterProtocol.version), the executor \(version): restart the daemon with the same M as its executors")
            }
            if let why = refusal(fd: fd, runId: runId) { return refuse(fd, why) }
            clients[fd]?.run = (runId, workerId)
            bells.watch(fd: fd, runId: runId)
            send(.requestsWaiting, to: fd)
        case .delegate(let streams, let consumed, let capBytes):
            guard let run = clients[fd]?.run else { return refuse(fd, "a delegation came before a hello") }
            guard let client = clients[fd], client.descriptors.count >= streams.count * 2, consumed.count == streams.count else {
                return refuse(fd, "a delegation came without a descriptor pair and a consumed count per stream")
            }
            let descriptors = Array(client.descriptors.prefix(streams.count * 2))
            clients[fd]?.descriptors.removeFirst(streams.count * 2)
            let stored: StoredOutput
            do { stored = try db.storedOutput(runId: run.id) } catch {
                descriptors.forEach { close($0) }
                logger.warning("run \(run.id): cannot read what its output stored (\(error)); its executor delegates again")
                return drop(fd)
            }
            guard delegated.add(runId: run.id, workerId: run.workerId, client: fd, names: streams, consumed: consumed,
                                stored: stored, capBytes: capBytes, descriptors: descriptors) else {
                logger.warning("run \(run.id): cannot read its delegated output; its executor delegates again")
                return drop(fd)
            }
            logger.info("run \(run.id): reading its \(streams.joined(separator: " and ")) here (delegated by its executor)")
        case .events(let batch, let events):
            guard let run = clients[fd]?.run else { return refuse(fd, "events came before a hello") }
            posted.append((fd, OutputBatch(runId: run.id, workerId: run.workerId, number: batch, events: events.map(\.event))))
        }
    }

    /// Stores the round's output and executors' events in one transaction,
    /// then consumes what was stored from the agents' pipes and answers the events.
    private func commit(_ rounds: [(client: Int32, batch: OutputBatch)], _ posted: [Posted]) {
        // An executor's events first: it sends them before it delegates its pipes again.
        let batches = posted.map(\.batch) + rounds.map(\.batch)
        let outcomes: [OutputBatchOutcome]
        do { outcomes = try db.appendOutputBatches(batches) } catch {
            logger.error("cannot store \(batches.count) output batch(es): \(error); reading them again")
            for round in rounds { delegated.notStored(runId: round.batch.runId) }
            for item in posted { send(.failed("\(error)"), to: item.fd) }
            return
        }
        for (round, outcome) in zip(rounds, outcomes[posted.count...]) {
            if case .refused(let error) = outcome {
                delegated.remove(runId: round.batch.runId)
                send(.refused(error.description), to: round.client)
            } else {
                tell(delegated.stored(runId: round.batch.runId))
            }
        }
        for (item, outcome) in zip(posted, outcomes) {
            switch outcome {
            case .stored, .alreadyStored: send(.stored(batch: item.batch.number ?? 0), to: item.fd)
            case .refused(let error): send(.refused(error.description), to: item.fd)
            case .outOfOrder(let expected): send(.failed("events batch \(item.batch.number ?? 0) came before batch \(expected)"), to: item.fd)
            }
        }
    }

    /// Tells executors what became of their delegated output.
    private func tell(_ notices: [DelegatedOutput.Notice]) {
        for (client, reply) in notices { send(reply, to: client) }
    }

    /// Looks at every watched run's requests when due and rings the executors
    /// of those with something new.
    private func ringIfDue() {
        for fd in bells.ringIfDue(logger: logger) { send(.requestsWaiting, to: fd) }
    }

    private func send(_ reply: WriterReply, to fd: Int32) {
        if clients[fd] != nil, !UnixSocket.writeAll(fd: fd, WriterProtocol.frame(reply)) { drop(fd) }
    }

    /// Answers `notAllowed` and closes the connection.
    private func refuse(_ fd: Int32, _ why: String) {
        send(.notAllowed(why), to: fd)
        drop(fd)
    }

    /// Why this connection may not serve `runId` (nil: it may): only the
    /// run's recorded executor process does.
    private func refusal(fd: Int32, runId: Int64) -> String? {
        let executor = try? db.processes(runId: runId).executorPid
        guard let peer = clients[fd]?.peer, let executor, peer == executor else {
            return "this connection is not run \(runId)'s executor (peer \(clients[fd]?.peer.map(String.init) ?? "?"), executor \(executor.map { String($0) } ?? "not recorded"))"
        }
        return nil
    }

    /// Closes a connection; the runs it delegated go back to their executor
    /// (closing their consumed pipes tells it how much was consumed).
    private func drop(_ fd: Int32) {
        guard let client = clients.removeValue(forKey: fd) else { return }
        client.descriptors.forEach { close($0) }
        bells.forget(fd: fd)
        delegated.removeRuns(of: fd)
        close(fd)
    }

    private func shutdown() {
        for fd in Array(clients.keys) { drop(fd) }
        if listener >= 0 {
            close(listener)
            unlink(socketPath)
            listener = -1
        }
        if lockFd >= 0 { close(lockFd) }
    }
}
