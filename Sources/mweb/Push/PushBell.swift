import Synchronization
import mdb

/// How the tailer wakes the push service: it rings when a notification-worthy
/// event was committed (fill the outbox) and pokes when a commit carried no
/// event (`mcli notify test` queued a row, say: look for due rows). Both only
/// set flags and resume a waiter, never wait, so the outbox is filled in a
/// transaction of the push service's own and never inside the output path's.
/// The push service sleeps on `wait(upTo:)` until then or until its next
/// retry is due: an idle mweb does no periodic work for push.
final class PushBell: Sendable {
    private struct State {
        var fillWanted = true
        var rung = true
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Event types worth waking the push service for (what a notifier may choose).
    private static let notable = Set(Defaults.notifierAllowedEvents)

    /// True for an event a notifier could be sent (output, the bulk, is rejected first).
    static func isNotable(_ type: String) -> Bool { type != EventType.output && notable.contains(type) }

    /// A notification-worthy event was committed: fill the outbox.
    func ring() { wake { $0.fillWanted = true } }

    /// A commit carried no event: look for rows that became due (a queued test notification).
    func poke() { wake { _ in } }

    /// A fill failed: ask for it again at the next wake-up, without waking now.
    func wantFill() { state.withLock { $0.fillWanted = true } }

    /// Whether a fill was asked for since the last call.
    func takeFillWanted() -> Bool { state.withLock { s in defer { s.fillWanted = false }; return s.fillWanted } }

    /// Ends the waits (shutdown).
    func finish() { wake { $0.finished = true } }

    /// Sleeps until rung or poked, or `seconds` passed (nil: no deadline).
    /// Returns false once the bell is finished or the waiting task is
    /// cancelled: a cancelled task's waits return at once, so a loop on them
    /// that went on would spin (an app stopped by cancellation, as tests do).
    func wait(upTo seconds: Double?) async -> Bool {
        if Task.isCancelled { return false }
        if let seconds, seconds <= 0 { return state.withLock { s in s.rung = false; return !s.finished } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForWake() }
            if let seconds { group.addTask { try? await Task.sleep(for: .seconds(seconds)) } }
            await group.next()
            group.cancelAll()
        }
        return state.withLock { !$0.finished } && !Task.isCancelled
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            change(&s)
            s.rung = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.rung || s.finished || Task.isCancelled {
                        s.rung = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
            state.withLock { $0.rung = false }
        } onCancel: {
            state.withLock { s in defer { s.waiter = nil }; return s.waiter }?.resume()
        }
    }
}
