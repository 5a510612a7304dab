import CProcess
import Foundation
import Logging
import mdb
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// The shared writer's reading of agents' pipes that their executors handed
/// over (`WriterMessage.delegate`): the executor sleeps while its agent
/// prints, instead of waking for every line to pass it on.
///
/// Nothing may be lost if the daemon dies, so it never consumes what is not
/// stored yet: it copies a pipe's bytes with tee(2) (they stay in the pipe),
/// commits them, and only then moves them with splice(2) from the agent's
/// pipe into the executor's "consumed" pipe, which consumes and records in
/// one step. The executor holds that pipe's read end and counts what came
/// through it, which is exactly what was consumed. When it delegates again
/// (to a restarted daemon), the writer skips what the run's columns say is
/// stored beyond that count: nothing stored is stored twice, nothing
/// consumed was not stored.
final class DelegatedOutput {
    /// One delegated stream of a run.
    struct Stream {
        let name: String
        /// The agent's pipe (read end).
        let pipe: Int32
        /// The executor's consumed pipe (write end).
        let sink: Int32
        /// Bytes moved out of the agent's pipe (into the sink) since the delegation.
        var consumed: Int64 = 0
        /// Bytes taken from it since the delegation (stored, or dropped past
        /// the cap), starting with those stored before it and not consumed.
        /// Those between `consumed` and `taken` still wait in the pipe, ahead of new bytes.
        var taken: Int64
        /// Taken by the round being committed.
        var pending: Int64 = 0
        /// Something new may wait (an edge came, or the last read was full).
        var ready = true
        /// An edge said the agent's side is closed: what the pipe holds is all there will be.
        var hungUp = false
        /// The agent's side is closed and every byte of it is taken.
        var ended = false
    }

    /// A delegated run.
    struct Run {
        let runId: Int64
        let workerId: String
        /// The executor's connection.
        let client: Int32
        let capBytes: Int64
        /// Output bytes stored for the run (every stream, since it started).
        var stored: Int64
        var capped: Bool
        var streams: [Stream]
    }

    /// What the writer tells an executor after a round: `drain`, `streamsEnded` or `outputCapped`.
    typealias Notice = (client: Int32, reply: WriterReply)

    private var runs: [Int64: Run] = [:]
    private let epoll: Int32
    /// The writer's own pipe that tee copies into and it reads from (empty between reads).
    private let scratch: (read: Int32, write: Int32)
    private var buffer: [UInt8]
    /// What `takeEdges` reads from the epoll instance (kept: it runs every round).
    private var edgeTokens = [UInt64](repeating: 0, count: 256)
    private var edgeHangups = [Int32](repeating: 0, count: 256)
    private let logger: Logger

    init(logger: Logger) throws {
        self.logger = logger
        epoll = m_epoll_create()
        var fds: [Int32] = [-1, -1]
        guard epoll >= 0, m_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw OutputPathError.noDescriptors(what: "the pipes for reading delegated output", reason: String(cString: strerror(errno)))
        }
        scratch = (fds[0], fds[1])
        // Room for everything an agent's pipe can hold (tee copies whole pipe buffers).
        _ = m_set_pipe_size(scratch.write, 1 << 20)
        buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit {
        for id in Array(runs.keys) { remove(runId: id) }
        close(epoll)
        close(scratch.read)
        close(scratch.write)
    }

    /// The descriptor to poll: readable when a delegated pipe got something.
    var descriptor: Int32 { epoll }

    /// Whether a stream should be read without waiting for the descriptor.
    var hasReadyStreams: Bool { runs.values.contains { $0.streams.contains { $0.ready && !$0.ended } } }

    /// Whether some run has stored bytes still in its agent's pipe (its sink was full).
    var hasUnconsumed: Bool { runs.values.contains { $0.streams.contains { $0.consumed < $0.taken } } }

    /// Starts reading `names` of `runId` (descriptors: each stream's pipe, then
    /// its sink): what is `stored` of a stream beyond what its executor saw
    /// `consumed` still waits at the head of its pipe, and is skipped.
    func add(runId: Int64, workerId: String, client: Int32, names: [String], consumed: [Int64], stored: StoredOutput,
             capBytes: Int64, descriptors: [Int32]) -> Bool {
        guard runs[runId] == nil, descriptors.count == names.count * 2, consumed.count == names.count else {
            descriptors.forEach { close($0) }
            return false
        }
        var streams: [Stream] = []
        for (index, name) in names.enumerated() {
            let pipe = descriptors[2 * index], sink = descriptors[2 * index + 1]
            _ = fcntl(pipe, F_SETFL, fcntl(pipe, F_GETFL) | O_NONBLOCK)
            _ = fcntl(sink, F_SETFL, fcntl(sink, F_GETFL) | O_NONBLOCK)
            // Past the cap nothing more is stored: what the pipe holds is dropped whatever the counts say.
            let skip = stored.capped ? 0 : stored.bytes[name] - consumed[index]
            if skip < 0 { logger.error("run \(runId): its executor saw \(-skip) byte(s) of \(name) consumed that were not stored") }
            streams.append(Stream(name: name, pipe: pipe, sink: sink, taken: max(0, skip)))
        }
        runs[runId] = Run(runId: runId, workerId: workerId, client: client, capBytes: capBytes, stored: stored.bytes.total,
                          capped: stored.capped, streams: streams)
        for (index, stream) in streams.enumerated()
        where m_epoll_add_edge(epoll, stream.pipe, token(runId, index)) != 0
            || m_epoll_add_writable_edge(epoll, stream.sink, token(runId, index) | sinkToken) != 0 {
            logger.warning("run \(runId): cannot watch its \(stream.name) pipe: \(String(cString: strerror(errno)))")
            remove(runId: runId)
            return false
        }
        return true
    }

    /// Stops reading every run of `client` (its connection is gone): closing
    /// the sinks tells the executor that nothing more will be consumed.
    func removeRuns(of client: Int32) {
        for run in runs.values where run.client == client { remove(runId: run.runId) }
    }

    /// Marks the streams whose pipes got something (without waiting), and
    /// those whose agent's side closed.
    func takeEdges() {
        while true {
            let n = Int(m_epoll_wait_hangups(epoll, &edgeTokens, &edgeHangups, Int32(edgeTokens.count), 0))
            if n <= 0 { return }
            // A sink's edge (its executor drained it) only wakes the loop, which consumes what waits.
            for (token, hangup) in zip(edgeTokens[0..<n], edgeHangups[0..<n]) where token & sinkToken == 0 {
                let runId = Int64(bitPattern: token >> 8), index = Int(token & 0x7F)
                guard runs[runId]?.streams.indices.contains(index) == true else { continue }
                runs[runId]!.streams[index].ready = true
                if hangup != 0 { runs[runId]!.streams[index].hungUp = true }
            }
            if n < edgeTokens.count { return }
        }
    }

    /// Reads what is new in every ready stream: each run's batch for this
    /// round, and what executors should hear about runs with nothing to store
    /// (past their cap, or ended).
    func read() -> (rounds: [(client: Int32, batch: OutputBatch)], notices: [Notice]) {
        var rounds: [(client: Int32, batch: OutputBatch)] = []
        var notices: [Notice] = []
        for runId in Array(runs.keys) {
            guard var run = runs[runId], run.streams.contains(where: { $0.ready && !$0.ended }) else { continue }
            var events: [NewEvent] = []
            var counts = OutputCounts()
            var capsOutput = false
            for index in run.streams.indices where run.streams[index].ready && !run.streams[index].ended {
                for piece in readNew(&run.streams[index]) {
                    let count = Int64(piece.count)
                    run.streams[index].pending += count
                    if run.capped { continue }
                    if run.stored + count > run.capBytes {
                        // Exactly the cap is kept: the piece's head up to it, then the notice.
                        let head = Int(run.capBytes - run.stored)
                        if head > 0 {
                            events.append(NewEvent(EventType.output, json: OutputEventData.json(stream: run.streams[index].name,
                                                                                                bytes: Array(piece[..<head]))))
                            run.stored += Int64(head)
                            counts[run.streams[index].name] += Int64(head)
                        }
                        events.append(OutputEventData.capNotice(capBytes: run.capBytes))
                        capsOutput = true
                        run.capped = true
                        notices.append((run.client, .outputCapped))
                    } else {
                        events.append(NewEvent(EventType.output, json: OutputEventData.json(stream: run.streams[index].name, bytes: piece)))
                        run.stored += count
                        counts[run.streams[index].name] += count
                    }
                }
            }
            runs[runId] = run
            if events.isEmpty {
                notices += stored(runId: runId)
            } else {
                rounds.append((run.client, OutputBatch(runId: runId, workerId: run.workerId, number: nil,
                                                 events: events, bytes: counts, capsOutput: capsOutput)))
            }
        }
        return (rounds, notices)
    }

    /// After the round's commit (or a round with nothing to store), consumes
    /// what the round took and says what the executor should hear.
    func stored(runId: Int64) -> [Notice] {
        guard var run = runs[runId] else { return [] }
        for index in run.streams.indices {
            run.streams[index].taken += run.streams[index].pending
            run.streams[index].pending = 0
        }
        runs[runId] = run
        var notices = consume(runId: runId)
        if let run = runs[runId], run.streams.allSatisfy(\.ended) {
            notices.append((run.client, .streamsEnded))
            remove(runId: runId)
        }
        return notices
    }

    /// Forgets what the round took for `runId` (its commit failed): it is read again.
    func notStored(runId: Int64) {
        guard var run = runs[runId] else { return }
        for index in run.streams.indices { run.streams[index].pending = 0 }
        runs[runId] = run
    }

    /// Moves stored bytes out of every pipe that still holds some (their sinks were full).
    func consumeAll() -> [Notice] {
        runs.values.filter { $0.streams.contains { $0.consumed < $0.taken } }.flatMap { consume(runId: $0.runId, late: true) }
    }

    /// Stops reading `runId` and closes its descriptors.
    func remove(runId: Int64) {
        guard let run = runs.removeValue(forKey: runId) else { return }
        for stream in run.streams {
            _ = m_epoll_remove(epoll, stream.pipe)
            _ = m_epoll_remove(epoll, stream.sink)
            close(stream.pipe)
            close(stream.sink)
        }
    }

    /// Moves each stream's taken bytes into its sink; a sink that is full
    /// asks the executor to drain it (the rest moves in a later round).
    private func consume(runId: Int64, late: Bool = false) -> [Notice] {
        guard var run = runs[runId] else { return [] }
        var full = false
        for index in run.streams.indices {
            while run.streams[index].consumed < run.streams[index].taken {
                let moved = m_splice_pipes(run.streams[index].pipe, run.streams[index].sink,
                                           UInt(run.streams[index].taken - run.streams[index].consumed))
                if moved > 0 {
                    run.streams[index].consumed += Int64(moved)
                    // Late (its sink was full): an agent blocked on its full pipe writes again
                    // now, and its next edge may have come and gone: look without waiting.
                    if late { run.streams[index].ready = !run.streams[index].ended }
                    continue
                }
                if moved < 0 && errno == EINTR { continue }
                full = true
                break
            }
        }
        runs[runId] = run
        return full ? [(run.client, .drain)] : []
    }

    /// The complete characters new in `stream` since what it took, in pieces
    /// of at most an event's size. A character cut at the end stays in the
    /// pipe for the next read, unless the agent's side is closed: then its
    /// bytes are a last piece of their own (stored as bytes, without turning
    /// the text before them into bytes too).
    private func readNew(_ stream: inout Stream) -> [[UInt8]] {
        let skip = Int(stream.taken + stream.pending - stream.consumed)
        // Stored bytes fill the pipe (its sink is full): read on once they moved.
        guard skip < buffer.count / 2 else {
            stream.ready = false
            return []
        }
        let want = buffer.count
        let copied = m_tee(stream.pipe, scratch.write, UInt(want))
        if copied < 0 {
            stream.ready = false
            if errno == EAGAIN { return [] }
            // Not a pipe any more, or worse: nothing more can be read from it.
            logger.warning("cannot copy from a delegated \(stream.name) pipe: \(String(cString: strerror(errno)))")
            stream.ended = true
            return []
        }
        if copied == 0 { // empty, and no writer is left
            stream.ready = false
            stream.ended = true
            return []
        }
        let count = Int(copied)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(scratch.read, $0.baseAddress! + filled, count - filled) }
            if n > 0 { filled += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
        guard filled == count else {
            logger.error("lost track of a delegated \(stream.name) pipe's copy (\(filled) of \(count) bytes)")
            stream.ended = true
            return []
        }
        // Everything the pipe held was copied: wait for the next edge.
        let drained = count < want
        if drained { stream.ready = false }
        // The edge that said so came before this read, so it copied the last bytes.
        let closed = drained && stream.hungUp
        if closed { stream.ended = true }
        guard count > skip else { return [] }
        // Events of at most `outputEventMaxBytes`, cut between characters; a character cut
        // at the end stays in the pipe, unless the agent's side closed: then it goes as bytes.
        var pieces: [[UInt8]] = []
        var start = skip
        while start < count {
            let end = min(count, start + Defaults.outputEventMaxBytes)
            let cut = end - OutputEventData.incompleteTail(buffer[start..<end])
            if cut == start { break }
            pieces.append(Array(buffer[start..<cut]))
            start = cut
        }
        if closed && start < count { pieces.append(Array(buffer[start..<count])) }
        return pieces
    }

    private func token(_ runId: Int64, _ index: Int) -> UInt64 { UInt64(bitPattern: runId) << 8 | UInt64(index) }
    private let sinkToken: UInt64 = 0x80
}
