import Synchronization
import mdb

/// How the tailer tells the push service that a notification-worthy event
/// was committed: it rings (a flag and one buffered wake-up, never a wait),
/// so the outbox is filled in a transaction of the push service's own and
/// never inside the output path's.
final class PushBell: Sendable {
    let wakes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let fillWanted = Atomic<Bool>(true)

    init() {
        (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Event types worth waking the push service for (what a notifier may choose).
    private static let notable = Set(Defaults.notifierAllowedEvents)

    /// True for an event a notifier could be sent (output, the bulk, is rejected first).
    static func isNotable(_ type: String) -> Bool { type != EventType.output && notable.contains(type) }

    /// A notification-worthy event was committed: fill the outbox.
    func ring() {
        fillWanted.store(true, ordering: .releasing)
        continuation.yield()
    }

    /// Time passed: look for retries that are due (and notifications queued by `mcli notify test`).
    func tick() { continuation.yield() }

    /// Whether a fill was asked for since the last call.
    func takeFillWanted() -> Bool { fillWanted.exchange(false, ordering: .acquiringAndReleasing) }

    /// Ends the wake-ups (shutdown).
    func finish() { continuation.finish() }
}
