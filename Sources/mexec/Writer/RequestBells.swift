import Foundation
import Logging
import mdb

/// The writer's side of the request bell: which connection watches which
/// run, what it last saw waiting for that run, and when to look again. One
/// `RequestWatch` query every `requestBellIntervalMilliseconds` (only when
/// someone committed) for every run, so that executors need not poll for their
/// own run's input and cancel. Used by the writer's thread only.
final class RequestBells {
    private let requests: RequestWatch
    private let commits: ChangeWatch
    private var watched: [Int32: (runId: Int64, seen: RequestWatch.Waiting?)] = [:]
    private var nextLook: UInt64 = 0

    /// Opens the two read-only connections it asks through.
    init(db: MDatabase) throws {
        requests = try RequestWatch(path: db.path)
        commits = try ChangeWatch(path: db.path, notify: false)
    }

    /// Starts ringing connection `fd` for `runId` (it was just rung, and reads everything).
    func watch(fd: Int32, runId: Int64) {
        watched[fd] = (runId, nil)
    }

    /// Stops ringing a connection that closed.
    func forget(fd: Int32) {
        watched[fd] = nil
    }

    /// How long the writer may wait before the next look, at most `cap` microseconds.
    func microsecondsUntilDue(cap: Int) -> Int {
        guard !watched.isEmpty else { return cap }
        let now = DispatchTime.now().uptimeNanoseconds
        return nextLook <= now ? 0 : min(cap, Int((nextLook - now) / 1000))
    }

    /// When a look is due and someone committed since the last one: the
    /// connections whose run has something new waiting (an input, a cancel, a
    /// diff request). A run whose requests were all taken is not rung.
    func ringIfDue(logger: Logger) -> [Int32] {
        let now = DispatchTime.now().uptimeNanoseconds
        guard !watched.isEmpty, now >= nextLook else { return [] }
        nextLook = now + UInt64(Defaults.requestBellIntervalMilliseconds) * 1_000_000
        guard (try? commits.changed()) ?? true else { return [] }
        let waiting: [Int64: RequestWatch.Waiting]
        do { waiting = try requests.waiting() } catch {
            logger.warning("cannot look for runs' requests: \(error); executors fall back to polling in a second")
            return []
        }
        var rung: [Int32] = []
        for (fd, entry) in watched {
            let current = waiting[entry.runId] ?? RequestWatch.Waiting()
            guard current != entry.seen else { continue }
            watched[fd] = (entry.runId, current)
            if current != RequestWatch.Waiting() { rung.append(fd) }
        }
        return rung
    }
}
