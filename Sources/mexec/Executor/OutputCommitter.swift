import Foundation
import Logging
import mdb

/// Commits what the readers queued as `output` events, on its own thread:
/// each transaction takes everything that arrived while the previous one was
/// committing, so a lone line is committed at once and a flood is batched.
/// Adjacent chunks of one stream are merged up to the event size limit, which
/// keeps per-stream order and cuts rows under heavy output. Batches go to the
/// host's shared writer (`OutputWriter`, in the daemon), which commits many
/// runs' batches together; without one the committer stores them itself.
final class OutputCommitter: @unchecked Sendable {
    private let db: MDatabase
    private let runId: Int64
    private let holder: String
    private let queue: OutputQueue
    private let capBytes: Int64
    private let logger: Logger
    private let finished = DispatchSemaphore(value: 0)
    private let state = NSLock()
    private var _leaseLost = false
    /// The host's shared writer, if the database has a socket path for one.
    private let writer: WriterClient?
    /// The number of the last batch sent (continuing what the run already stored).
    private var batchNumber: Int64

    init(db: MDatabase, runId: Int64, holder: String, queue: OutputQueue, capBytes: Int64, logger: Logger) {
        self.db = db
        self.runId = runId
        self.holder = holder
        self.queue = queue
        self.capBytes = capBytes
        self.logger = logger
        writer = Defaults.outputWriterSocketPath(databasePath: db.path).map { WriterClient(socketPath: $0, logger: logger) }
        batchNumber = (try? db.storedOutputBatch(runId: runId)) ?? 0
    }

    /// True once an append was refused because this executor no longer holds the run.
    var leaseLost: Bool { state.lock(); defer { state.unlock() }; return _leaseLost }

    /// Starts the committing thread.
    func start() {
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "committer"
        thread.start()
    }

    /// Waits until every stream ended and all output was committed (or dropped).
    func waitUntilDone(timeoutSeconds: Double) -> Bool {
        finished.wait(timeout: .now() + timeoutSeconds) == .success
    }

    private func loop() {
        var capped = false
        var stored: Int64 = 0
        let maxEvent = Defaults.outputEventMaxBytes
        while let chunks = queue.takeAll() {
            if leaseLost || capped { continue } // keep draining so the agent never blocks on a full pipe
            var events: [NewEvent] = []
            var pending: OutputChunk?
            func flush() {
                if let chunk = pending {
                    events.append(NewEvent(EventType.output, OutputEncoding.data(stream: chunk.stream, bytes: chunk.bytes)))
                    pending = nil
                }
            }
            for chunk in chunks {
                if stored + Int64(chunk.bytes.count) > capBytes {
                    flush()
                    events.append(NewEvent(EventType.notice, .object([
                        ("level", "warning"),
                        ("text", .string("output cap of \(capBytes) bytes reached: further output of this run is discarded (the run keeps going)")),
                    ])))
                    capped = true
                    break
                }
                stored += Int64(chunk.bytes.count)
                if var current = pending, current.stream == chunk.stream, current.bytes.count + chunk.bytes.count <= maxEvent {
                    current.bytes.append(contentsOf: chunk.bytes)
                    pending = current
                } else {
                    flush()
                    pending = chunk
                }
            }
            flush()
            store(events)
        }
    }

    /// Stores one batch, through the host's shared writer when one answers
    /// and directly otherwise; the batch's number makes a resend after a lost
    /// reply harmless. A lost lease stops storing for good; anything else (a
    /// database busy beyond its timeout, a full disk) is retried for a while,
    /// holding the readers back, before the batch is given up and logged.
    private func store(_ events: [NewEvent]) {
        batchNumber += 1
        let batch = OutputBatch(runId: runId, workerId: holder, number: batchNumber, events: events)
        for attempt in 1...50 {
            let outcome: Result<Void, StoreFailure>
            switch writer?.store(batch) {
            case .stored?:
                return
            case .refused(let why)?:
                outcome = .failure(.refused(why))
            case .failed(let why)?:
                outcome = .failure(.retry(why))
            case .notAllowed(let why)?:
                logger.warning("run \(runId): the shared writer refused this executor (\(why)); storing output directly")
                outcome = storeDirectly(batch)
            case nil:
                outcome = storeDirectly(batch)
            }
            switch outcome {
            case .success:
                return
            case .failure(.refused(let why)):
                logger.warning("run \(runId): output no longer accepted (\(why)); discarding the rest")
                state.lock(); _leaseLost = true; state.unlock()
                return
            case .failure(.retry(let why)):
                logger.error("run \(runId): cannot store output (attempt \(attempt)): \(why)")
            }
            usleep(100_000)
        }
        logger.error("run \(runId): gave up storing \(events.count) output event(s)")
    }

    /// Why a batch was not stored: for good, or for now.
    private enum StoreFailure: Error {
        case refused(String)
        case retry(String)
    }

    private func storeDirectly(_ batch: OutputBatch) -> Result<Void, StoreFailure> {
        do {
            switch try db.appendOutputBatches([batch]).first {
            case .refused(let error)?: return .failure(.refused(error.description))
            default: return .success(())
            }
        } catch {
            return .failure(.retry("\(error)"))
        }
    }
}
