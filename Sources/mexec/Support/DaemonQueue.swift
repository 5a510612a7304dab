import Dispatch

/// Where the daemon's blocking work runs: its SQLite statements (a busy
/// handler can wait seconds for the write lock), `waitpid` and spawning
/// executors. A serial dispatch queue of its own, never Swift's cooperative
/// pool, whose few threads every service of the daemon shares: one blocked
/// call there would stall the claimer, the reaper and the heartbeat together.
enum DaemonQueue {
    private static let queue = DispatchQueue(label: "mexec.daemon.blocking")

    /// Runs `body` on the queue and resumes the caller when it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
