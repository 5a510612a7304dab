/// A wake-up for a service that works in batches: ringing never waits and
/// rings that come while the service is busy fold into one.
final class WakeBell: Sendable {
    let wakes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Something to do was committed.
    func ring() { continuation.yield() }

    /// Ends the wake-ups (shutdown).
    func finish() { continuation.finish() }
}
