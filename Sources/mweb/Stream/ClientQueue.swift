import NIOCore
import Synchronization

/// One WebSocket client's subscription: what the tailer publishes for it
/// while its replay runs, then a cursor and a bound once it is live.
///
/// While the client replays from the database, published frames wait here
/// (at most `capacity`). Once the replay is sent, `goLive` hands them over,
/// minus what the replay already sent, and from then on the tailer writes
/// each round's frames straight to the client's event loop (`offer`): no
/// task of the client's wakes per frame. Frames handed to the event loop and
/// not yet written count against the same `capacity`; a client that reaches it
/// has fallen too far behind: the subscription ends marked as overflowed and
/// the client is closed with `WebDefaults.slowClientCloseCode`, to resume
/// after `cursor`. Memory per client is bounded by `capacity` frames (whose
/// bytes every client shares).
final class ClientQueue: Sendable {
    /// The run this client follows, nil for the all-runs stream.
    let runId: Int64?
    /// Identifies the subscription in `FanOut`.
    let key: Int
    private let capacity: Int

    private struct State {
        /// Frames published while the client replays (at most `capacity`).
        var held: [WireFrame] = []
        /// Set by `goLive`: where frames go from then on.
        var sink: (any LiveSink)?
        /// Unsubscribed, shut down or overflowed: nothing more is sent.
        var ended = false
        var overflowed = false
        /// The position (seq, or id for all runs) of the last frame handed to the sink.
        var cursor: Int64 = 0
        /// Frames handed to the sink and not yet in the kernel.
        var unwritten = 0
        /// The pump, waiting for the subscription to end.
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    init(runId: Int64?, key: Int, capacity: Int) {
        self.runId = runId
        self.key = key
        self.capacity = capacity
    }

    /// Whether the subscription ended because the client fell behind.
    var overflowed: Bool { state.withLock { $0.overflowed } }

    /// The position of the last frame handed to the client (what it resumes after).
    var cursor: Int64 { state.withLock { $0.cursor } }

    /// A frame's position in this client's stream: the run's seq, or the id for all runs.
    private func position(_ frame: WireFrame) -> Int64 { runId == nil ? frame.id : frame.seq }

    /// Takes this round's frames for the client, in order (tailer only). While
    /// replaying they are kept; once live, those after the cursor are
    /// returned for the caller to write to the sink on its event loop, in
    /// the order of the calls. Never waits on the client.
    func offer(_ frames: ArraySlice<WireFrame>) -> LiveWrite? {
        let (write, waiter) = state.withLock { state -> (LiveWrite?, CheckedContinuation<Void, Never>?) in
            if state.ended { return (nil, nil) }
            guard let sink = state.sink else {
                if state.held.count + frames.count > capacity {
                    // Keep what fits: the client gets those, then the close.
                    state.held.append(contentsOf: frames.prefix(capacity - state.held.count))
                    state.overflowed = true
                    state.ended = true
                } else {
                    state.held.append(contentsOf: frames)
                }
                return (nil, nil)
            }
            let cursor = state.cursor
            // Frames arrive in order: any the replay already sent come first.
            let fresh = frames.drop { position($0) <= cursor }
            guard let last = fresh.last else { return (nil, nil) }
            if state.unwritten + fresh.count > capacity {
                state.overflowed = true
                state.ended = true
                return (nil, state.waiter.take())
            }
            state.unwritten += fresh.count
            state.cursor = position(last)
            return (LiveWrite(queue: self, sink: sink, frames: fresh), nil)
        }
        waiter?.resume()
        return write
    }

    /// Ends the replay (pump only): the frames held meanwhile that the replay
    /// did not send are written, and later ones go straight to `sink`.
    /// Returns false when the subscription already ended (the held frames are
    /// still written: an overflowed client gets them before its close).
    @discardableResult
    func goLive(after cursor: Int64, sink: any LiveSink) -> Bool {
        state.withLock { state in
            state.cursor = cursor
            let held = state.held
            state.held = []
            state.sink = sink
            let fresh = held.drop { position($0) <= cursor }
            if let last = fresh.last {
                state.unwritten += fresh.count
                state.cursor = position(last)
                // Handed to the event loop under the lock: the tailer's next
                // `offer` for this client is queued behind it.
                let write = LiveWrite(queue: self, sink: sink, frames: fresh)
                sink.eventLoop.execute { write.perform() }
            }
            return !state.ended
        }
    }

    /// Counts frames written (or dropped with the connection) by the sink.
    fileprivate func written(_ count: Int) {
        state.withLock { $0.unwritten -= count }
    }

    /// Ends the subscription (shutdown, unsubscribe); nothing more is sent.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.ended = true
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Returns once the subscription has ended, or when the task is cancelled.
    func ended() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                // Checked under the lock that `offer`, `finish` and the
                // cancellation handler take, so no wake-up is lost.
                let resumeNow = state.withLock { state -> Bool in
                    if state.ended || Task.isCancelled { return true }
                    state.waiter = waiter
                    return false
                }
                if resumeNow { waiter.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiter.take() }?.resume()
        }
    }

    /// A client's frames of one round, to write on its sink's event loop.
    struct LiveWrite: Sendable {
        let queue: ClientQueue
        let sink: any LiveSink
        let frames: ArraySlice<WireFrame>

        /// On the sink's event loop.
        func perform() {
            let queue = self.queue, count = frames.count
            sink.write(frames) { _ in queue.written(count) }
        }
    }
}
