import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import MTranscript
import mdb

/// The one poller per mweb process: waits for a commit (`ChangeWatch`:
/// inotify plus `PRAGMA data_version`) and, only when there was one, reads the new events
/// by id in pages (`EventFeed`, a statement of its own; each read ends before
/// publishing) and hands them to the fan-out. Its cost per tick does not
/// depend on the number of clients.
///
/// The loop runs on its own thread, blocking in `waitForChange`: nothing in
/// it needs to suspend (publishing only enqueues), and a blocking wait must
/// not hold a cooperative-pool thread. `run()` awaits the thread.
struct Tailer: Service {
    let databasePath: String
    let fanOut: FanOut
    /// The last event id already in the database when mweb started: clients
    /// replay up to it from the database, the tailer publishes what follows.
    let startAfterId: Int64
    let logger: Logger
    /// Rung when a page holds an event a notifier could be sent (the push service fills the outbox).
    var bell: PushBell? = nil
    /// Rung when a page holds text the search index takes (the search indexer catches up).
    var searchBell: WakeBell? = nil

    func run() async throws {
        let watch = try ChangeWatch(path: databasePath)
        let stop = Atomic<Bool>(false)
        defer { fanOut.finishAll() }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                    let thread = Thread { [self] in
                        // The feed is made and used on this thread only (it is not thread-safe).
                        done.resume(with: Result { try loop(watch: watch, feed: EventFeed(path: databasePath), stop: stop) })
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

    private func loop(watch: ChangeWatch, feed: EventFeed, stop: borrowing Atomic<Bool>) throws {
        var lastId = startAfterId
        while !stop.load(ordering: .relaxed) {
            do {
                // Sleeps on inotify until the database's files are written (a
                // quarter second at most, to notice `stop`): no cost when idle,
                // a wake within microseconds of a commit.
                if try watch.waitForChange(timeout: Double(WebDefaults.idleWakeMilliseconds) / 1000) {
                    lastId = try publish(after: lastId, from: feed)
                }
            } catch {
                // A busy or briefly unreadable database is retried on the next tick.
                logger.warning("tailer read failed; retrying", metadata: ["error": "\(error)"])
                usleep(100_000)
            }
        }
    }

    /// Publishes every event with an id above `lastId`; returns the new last id.
    private func publish(after lastId: Int64, from feed: EventFeed) throws -> Int64 {
        var last = lastId
        while true {
            let page = try feed.events(afterId: last, limit: WebDefaults.pageSize)
            guard let tail = page.last else {
                // A commit without events (`mcli notify test` queued a row): the push service looks for due rows.
                if last == lastId { bell?.poke() }
                return last
            }
            fanOut.publish(page.map(WireFrame.init))
            if let bell, page.contains(where: { PushBell.isNotable($0.type) }) { bell.ring() }
            if let searchBell, page.contains(where: { EventText.isSearchable($0.type) }) { searchBell.ring() }
            last = tail.id
            if page.count < WebDefaults.pageSize { return last }
        }
    }
}
