import Synchronization

/// Hands each new event to the clients that follow its run and to the
/// all-runs clients. One tailer publishes; a publish costs one push per
/// interested client and no query, whatever the number of clients.
final class FanOut: Sendable {
    private struct State {
        var nextKey = 0
        var byRun: [Int64: [Int: ClientQueue]] = [:]
        var allRuns: [Int: ClientQueue] = [:]
        var finished = false
    }
    private let state = Mutex(State())
    private let capacity: Int

    init(clientQueueFrames: Int = WebDefaults.clientQueueFrames) {
        capacity = clientQueueFrames
    }

    /// A new subscription (to one run, or to all runs when `runId` is nil).
    /// Subscribe before replaying from the database, so nothing committed in
    /// between is missed; the subscriber drops what it already replayed.
    func subscribe(runId: Int64?) -> ClientQueue {
        state.withLock { state in
            state.nextKey += 1
            let queue = ClientQueue(runId: runId, key: state.nextKey, capacity: capacity)
            if state.finished {
                queue.finish()
            } else if let runId {
                state.byRun[runId, default: [:]][queue.key] = queue
            } else {
                state.allRuns[queue.key] = queue
            }
            return queue
        }
    }

    /// Ends a subscription (the client left or was closed).
    func unsubscribe(_ queue: ClientQueue) {
        state.withLock { state in
            if let runId = queue.runId {
                state.byRun[runId]?[queue.key] = nil
                if state.byRun[runId]?.isEmpty == true { state.byRun[runId] = nil }
            } else {
                state.allRuns[queue.key] = nil
            }
        }
        queue.finish()
    }

    /// Delivers frames, in order, to every interested client.
    func publish(_ frames: [WireFrame]) {
        state.withLock { state in
            for frame in frames {
                if let followers = state.byRun[frame.runId] {
                    for queue in followers.values { queue.push(frame) }
                }
                for queue in state.allRuns.values { queue.push(frame) }
            }
        }
    }

    /// Ends every subscription (mweb is stopping); later subscriptions end at once.
    func finishAll() {
        let queues = state.withLock { state -> [ClientQueue] in
            state.finished = true
            let all = state.byRun.values.flatMap(\.values) + Array(state.allRuns.values)
            state.byRun = [:]
            state.allRuns = [:]
            return all
        }
        for queue in queues { queue.finish() }
    }

    /// How many clients are subscribed (for tests and logs).
    var subscriberCount: Int { state.withLock { $0.byRun.values.reduce(0) { $0 + $1.count } + $0.allRuns.count } }
}
