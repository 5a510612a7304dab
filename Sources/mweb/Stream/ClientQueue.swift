import Synchronization

/// A bounded queue of frames for one WebSocket client. The tailer never
/// waits on a client: when the queue is full the client has fallen too far
/// behind, the queue is ended and marked, and the client is closed with
/// `WebSocketDefaults.slowClientCloseCode` to resume from its last seq.
/// Memory per client is bounded by the queue's capacity.
final class ClientQueue: Sendable {
    /// The run this client follows, nil for the all-runs stream.
    let runId: Int64?
    /// Identifies the subscription in `FanOut`.
    let key: Int
    /// The frames, in commit order, until the queue ends.
    let frames: AsyncStream<WireFrame>
    private let continuation: AsyncStream<WireFrame>.Continuation
    private let overflow = Atomic<Bool>(false)

    init(runId: Int64?, key: Int, capacity: Int) {
        self.runId = runId
        self.key = key
        (frames, continuation) = AsyncStream.makeStream(of: WireFrame.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Whether the queue ended because the client fell behind.
    var overflowed: Bool { overflow.load(ordering: .acquiring) }

    /// Adds a frame without waiting; a full queue ends the subscription.
    func push(_ frame: WireFrame) {
        if case .dropped = continuation.yield(frame) {
            overflow.store(true, ordering: .releasing)
            continuation.finish()
        }
    }

    /// Ends the queue (shutdown): the client's stream closes after what is buffered.
    func finish() { continuation.finish() }
}
