import Synchronization

/// A bounded queue of frames for one WebSocket client. The tailer never
/// waits on a client: when the queue is full the client has fallen too far
/// behind, the queue is ended and marked, and the client is closed with
/// `WebDefaults.slowClientCloseCode` to resume from its last seq.
/// Memory per client is bounded by the queue's capacity.
///
/// The client's pump takes everything queued at once (`next()`), so a burst
/// goes out as one batch: one event-loop hop and one flush for all of it.
final class ClientQueue: Sendable {
    /// The run this client follows, nil for the all-runs stream.
    let runId: Int64?
    /// Identifies the subscription in `FanOut`.
    let key: Int
    private let capacity: Int

    private struct State {
        var frames: [WireFrame] = []
        /// The pump, when it waits for frames.
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var overflowed = false
    }
    private let state = Mutex(State())

    init(runId: Int64?, key: Int, capacity: Int) {
        self.runId = runId
        self.key = key
        self.capacity = capacity
    }

    /// Whether the queue ended because the client fell behind.
    var overflowed: Bool { state.withLock { $0.overflowed } }

    /// Adds a frame without waiting; a full queue ends the subscription.
    func push(_ frame: WireFrame) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            if state.frames.count >= capacity {
                state.overflowed = true
                state.finished = true
            } else {
                state.frames.append(frame)
            }
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Ends the queue (shutdown, unsubscribe): the pump gets what is queued, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Every frame queued so far, in order, waiting until there is one; nil
    /// once the queue has ended and is empty, or when the task is cancelled.
    func next() async -> [WireFrame]? {
        while true {
            if Task.isCancelled { return nil }
            let taken = state.withLock { state -> [WireFrame]? in
                guard !state.frames.isEmpty else { return nil }
                defer { state.frames = [] }
                return state.frames
            }
            if let taken { return taken }
            if state.withLock({ $0.finished }) { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    // Checked under the lock that `push`, `finish` and the
                    // cancellation handler take, so no wake-up is lost.
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.frames.isEmpty || state.finished || Task.isCancelled { return true }
                        state.waiter = waiter
                        return false
                    }
                    if resumeNow { waiter.resume() }
                }
            } onCancel: {
                state.withLock { $0.waiter.take() }?.resume()
            }
        }
    }
}
