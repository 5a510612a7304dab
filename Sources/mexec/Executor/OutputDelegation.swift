import CProcess
import Foundation
import Logging
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// An executor's side of delegated output: it hands its agent's pipes to the
/// host's shared writer, which reads and stores them (`DelegatedOutput`),
/// and sleeps until the writer says the streams ended, or gives them back.
///
/// With each pipe goes the write end of a "consumed" pipe the executor keeps
/// reading: the writer moves stored bytes out of the agent's pipe into it, so
/// what came through it is exactly what was consumed. Taking the pipes back
/// (the writer died, failed, or the run is abandoned) waits until the writer
/// has let go of them (the consumed pipes reach their end), counts that,
/// reads from the database what was stored, and skips the difference: the
/// pump then reads on from the first byte not stored.
final class OutputDelegation {
    /// How the delegation ended.
    enum Outcome {
        /// The writer stored everything the streams held until they ended.
        case ended
        /// The run does not take output from this executor any more.
        case refused(String)
        /// The writer let go of the pipes (or must: the run was abandoned or it stopped answering).
        case takenBack
    }

    /// Where the pump continues after taking the pipes back.
    struct Resume {
        /// Bytes of output stored for the run (for its cap).
        var stored: Int64
        /// The output cap was reached.
        var capped: Bool
        /// The last batch stored.
        var batchNumber: Int64
    }

    private struct Stream {
        let name: String
        let pipe: Int32
        /// The read end of the consumed pipe.
        let consumedPipe: Int32
        var consumed: Int64 = 0
    }

    private let runId: Int64
    private let writer: WriterClient
    private let logger: Logger
    private var streams: [Stream]
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    private init(runId: Int64, writer: WriterClient, logger: Logger, streams: [Stream]) {
        self.runId = runId
        self.writer = writer
        self.logger = logger
        self.streams = streams
    }

    deinit { streams.forEach { close($0.consumedPipe) } }

    /// Hands `outputs` to the writer if they are all pipes and it answers;
    /// nil (nothing handed over) otherwise.
    static func start(writer: WriterClient, runId: Int64, holder: String, nextBatch: Int64,
                      outputs: [(fd: Int32, stream: String)], capBytes: Int64, logger: Logger) -> OutputDelegation? {
        guard !outputs.isEmpty, outputs.allSatisfy({ isPipe($0.fd) }), writer.keepConnected() else { return nil }
        var streams: [Stream] = []
        var descriptors: [Int32] = []
        for output in outputs {
            var fds: [Int32] = [-1, -1]
            guard m_pipe2(&fds, O_CLOEXEC) == 0 else { break }
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            // Room for many rounds before the writer must ask for a drain (best effort).
            _ = m_set_pipe_size(fds[1], Defaults.consumedPipeBytes)
            streams.append(Stream(name: output.stream, pipe: output.fd, consumedPipe: fds[0]))
            descriptors += [output.fd, fds[1]]
        }
        let sinks = stride(from: 1, to: descriptors.count, by: 2).map { descriptors[$0] }
        defer { sinks.forEach { close($0) } }
        let delegation = OutputDelegation(runId: runId, writer: writer, logger: logger, streams: streams)
        guard streams.count == outputs.count,
              writer.send(WriterWire.encodeDelegation(runId: runId, workerId: holder, nextBatch: nextBatch,
                                                      streams: outputs.map(\.stream), capBytes: capBytes),
                          descriptors: descriptors) else { return nil }
        logger.info("the shared writer reads this run's \(outputs.map(\.stream).joined(separator: " and "))")
        return delegation
    }

    /// Sleeps until the writer says how the streams ended, or `wake` (the
    /// pump's abandon pipe, left unread) is readable; `capped` is called when
    /// the writer says the output reached its cap.
    func follow(wake: Int32, capped: () -> Void) -> Outcome {
        while true {
            var pfds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
                        pollfd(fd: writer.descriptor ?? -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&pfds, 2, -1)
            if ready < 0 && errno != EINTR { return .takenBack }
            if pfds[0].revents != 0 || pfds[1].fd < 0 { return .takenBack }
            if pfds[1].revents == 0 { continue }
            guard let replies = writer.replies() else { return .takenBack }
            for (_, reply) in replies {
                switch reply {
                case .drain: drainConsumed(waitUntilEnd: nil)
                case .streamsEnded: return .ended
                case .refused(let why): return .refused(why)
                case .failed, .notAllowed: return .takenBack
                case .outputCapped: capped()
                case .stored, .requestsWaiting: break
                }
            }
        }
    }

    /// Takes the pipes back: lets go of the writer, waits until it let go of
    /// them, and skips in each pipe what it stored but did not consume.
    func takeBack(db: MDatabase) -> Resume {
        writer.lost()
        drainConsumed(waitUntilEnd: Date().addingTimeInterval(Double(Defaults.delegationReleaseSeconds)))
        // What the writer stored decides where to read on: a busy database is asked again for a while.
        for attempt in 1...50 {
            do {
                let stored = try db.storedOutput(runId: runId)
                let resume = Resume(stored: stored.bytes.total, capped: stored.capped,
                                    batchNumber: try db.storedOutputBatch(runId: runId))
                for stream in streams {
                    let skip = stored.bytes[stream.name] - stream.consumed
                    if skip < 0 { logger.error("run \(runId): the writer consumed \(-skip) byte(s) of \(stream.name) it did not store") }
                    if skip > 0 { discard(skip, from: stream) }
                }
                logger.info("took this run's output back from the shared writer (\(resume.stored) byte(s) stored)")
                return resume
            } catch {
                logger.warning("run \(runId): cannot read what the writer stored (attempt \(attempt)): \(error)")
                usleep(100_000)
            }
        }
        // Unknown: read on from where the writer consumed (what it stored and did not consume may be
        // stored twice), numbering batches past anything stored, so that the first one is renumbered
        // to the next expected (`outOfOrder`) rather than taken for one already stored.
        logger.error("run \(runId): reading on from where the writer consumed; some output may be stored twice")
        return Resume(stored: 0, capped: false, batchNumber: Int64(Int32.max))
    }

    /// Reads the consumed pipes: what is there now, or (with a deadline)
    /// until the writer closed them.
    private func drainConsumed(waitUntilEnd deadline: Date?) {
        for index in streams.indices {
            while true {
                let n = scratch.withUnsafeMutableBytes { Glibc.read(streams[index].consumedPipe, $0.baseAddress, $0.count) }
                if n > 0 {
                    streams[index].consumed += Int64(n)
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                if n == 0 { break } // the writer let go
                guard let deadline else { break }
                let left = Int(deadline.timeIntervalSinceNow * 1000)
                var entry = pollfd(fd: streams[index].consumedPipe, events: Int16(POLLIN), revents: 0)
                if left <= 0 || poll(&entry, 1, Int32(left)) == 0 {
                    logger.error("run \(runId): the shared writer did not let go of its \(streams[index].name) pipe in time; reading on (some output may be stored twice)")
                    break
                }
            }
        }
    }

    /// Reads and drops `count` bytes of `stream`'s pipe: stored, not consumed.
    private func discard(_ count: Int64, from stream: Stream) {
        var left = count
        while left > 0 {
            let n = scratch.withUnsafeMutableBytes { Glibc.read(stream.pipe, $0.baseAddress, min($0.count, Int(left))) }
            if n > 0 {
                left -= Int64(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                var entry = pollfd(fd: stream.pipe, events: Int16(POLLIN), revents: 0)
                if poll(&entry, 1, 1000) == 0 { break }
            } else {
                break
            }
        }
        if left > 0 { logger.error("run \(runId): \(left) stored byte(s) of \(stream.name) were not in its pipe any more") }
    }

    private static func isPipe(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO
    }
}
