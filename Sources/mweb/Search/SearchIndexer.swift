import Logging
import MTranscript
import NIOPosix
import ServiceLifecycle
import mdb

/// Fills the search index (`search_text`, in its own file beside the bus:
/// `SearchFile`) from `events`, behind the output path, never inside it: on start (to catch up with what was committed
/// while no mweb ran) and whenever the tailer saw new output, it indexes
/// batches until it has caught up, pausing between two so that executors
/// take the write lock in between.
///
/// It lives in mweb because mweb already tails every event and is the one
/// process that answers searches; mexec's writer is the ingest hot path and
/// must not do more per commit, and mcli only runs now and then. When no
/// mweb runs, the index falls behind and catches up at the next start (the
/// cursor is in `search_cursor`). SQLite calls run on a thread of its own,
/// never on the cooperative pool.
struct SearchIndexer: Service {
    let db: MDatabase
    let bell: WakeBell
    let logger: Logger
    var batchEvents = Defaults.searchBatchEvents
    var pauseMilliseconds = WebDefaults.searchIndexPauseMilliseconds
    var restFactor = WebDefaults.searchIndexRestFactor

    func run() async throws {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        defer { thread.shutdownGracefully { _ in } }
        await withGracefulShutdownHandler {
            bell.ring() // catch up with whatever was committed before this mweb started
            for await _ in bell.wakes {
                await catchUp(on: thread)
            }
        } onGracefulShutdown: {
            bell.finish()
        }
    }

    /// Indexes batches until it has caught up or mweb stops. Between two
    /// batches it rests `restFactor` times as long as the last one took, so
    /// while output pours in it holds the write lock a fifth of the time at
    /// most, and the index falls behind a flood rather than slowing it. Its
    /// thread keeps mweb's priority: a lower one got it descheduled while it
    /// held the write lock, and every executor's commit waited for it.
    private func catchUp(on thread: NIOThreadPool) async {
        var batch = batchEvents
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                let step = try await thread.runIfActive { [db, batch] in try SearchIndexing.step(db, batch: batch) }
                if step.caughtUp { return }
                batch = max(1, min(batchEvents, step.nextBatch))
            } catch {
                logger.warning("search index: a batch failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
            try? await Task.sleep(for: max(.milliseconds(pauseMilliseconds), (ContinuousClock.now - started) * restFactor))
        }
    }
}
