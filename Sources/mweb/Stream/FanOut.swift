import NIOCore
import Synchronization

/// Hands each new event to the clients that follow its run and to the
/// all-runs clients. One tailer publishes; a publish costs no query whatever
/// the number of clients, and one event-loop task per event loop: each
/// carries every live client of that loop with all of its frames of the round.
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
    /// between is missed; `ClientQueue.goLive` drops what the replay sent.
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

    /// Delivers frames (in id order, as the tailer reads them) to every
    /// interested client: one `offer` per client with all of its frames, then
    /// one task per event loop that writes them (publish is only ever called
    /// from one thread, so each client's writes are queued in order).
    func publish(_ frames: [WireFrame]) {
        guard let first = frames.first else { return }
        var loops = WritesByLoop()
        state.withLock { state in
            if !state.byRun.isEmpty {
                if frames.allSatisfy({ $0.runId == first.runId }) {
                    // The usual round: one run's frames, shared without a copy.
                    for queue in state.byRun[first.runId]?.values ?? [:].values { loops.add(queue.offer(frames[...])) }
                } else {
                    var byRun: [Int64: [WireFrame]] = [:]
                    for frame in frames where state.byRun[frame.runId] != nil { byRun[frame.runId, default: []].append(frame) }
                    for (runId, group) in byRun {
                        for queue in state.byRun[runId]?.values ?? [:].values { loops.add(queue.offer(group[...])) }
                    }
                }
            }
            for queue in state.allRuns.values { loops.add(queue.offer(frames[...])) }
        }
        loops.execute()
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

}

/// A round's writes, gathered by event loop so that each loop is woken once
/// per round however many of its clients follow the round's runs.
private struct WritesByLoop {
    private var groups: [(loop: any EventLoop, writes: [ClientQueue.LiveWrite])] = []

    mutating func add(_ write: ClientQueue.LiveWrite?) {
        guard let write else { return }
        let loop = write.sink.eventLoop
        if let i = groups.firstIndex(where: { $0.loop === loop }) {
            groups[i].writes.append(write)
        } else {
            groups.append((loop, [write]))
        }
    }

    func execute() {
        for (loop, writes) in groups {
            loop.execute { for write in writes { write.perform() } }
        }
    }
}
