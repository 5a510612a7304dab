import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import mdb

/// The one poller per mweb process: checks `PRAGMA data_version` about every
/// millisecond and, only when something was committed, reads the new events
/// by id in pages (ending each read before publishing) and hands them to the
/// fan-out. Its cost per tick does not depend on the number of clients.
///
/// The loop runs on its own thread with plain sleeps: waking an async task
/// every millisecond cost about twice the idle CPU, and nothing in the loop
/// needs to suspend (publishing only enqueues). `run()` awaits the thread.
struct Tailer: Service {
    let databasePath: String
    let store: any MStore
    let fanOut: FanOut
    /// The last event id already in the database when mweb started: clients
    /// replay up to it from the database, the tailer publishes what follows.
    let startAfterId: Int64
    let pollIntervalMicroseconds: Int
    let logger: Logger

    func run() async throws {
        let watch = try ChangeWatch(path: databasePath)
        let stop = Atomic<Bool>(false)
        defer { fanOut.finishAll() }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                    let thread = Thread { [self] in
                        done.resume(with: Result { try loop(watch: watch, stop: stop) })
                    }
                    thread.name = "mweb-tailer"
                    thread.start()
                }
            } onCancel: {
                stop.store(true, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            stop.store(true, ordering: .relaxed)
        }
    }

    private func loop(watch: ChangeWatch, stop: borrowing Atomic<Bool>) throws {
        var lastId = startAfterId
        while !stop.load(ordering: .relaxed) {
            do {
                if try watch.changed() {
                    lastId = try publish(after: lastId)
                }
            } catch {
                // A busy or briefly unreadable database is retried on the next tick.
                logger.warning("tailer read failed; retrying", metadata: ["error": "\(error)"])
                usleep(100_000)
            }
            usleep(UInt32(pollIntervalMicroseconds))
        }
    }

    /// Publishes every event with an id above `lastId`; returns the new last id.
    private func publish(after lastId: Int64) throws -> Int64 {
        var last = lastId
        while true {
            let page = try store.events(afterId: last, limit: WebDefaults.pageSize)
            guard let tail = page.last else { return last }
            fanOut.publish(page.map(WireFrame.init))
            last = tail.id
            if page.count < WebDefaults.pageSize { return last }
        }
    }
}
