import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Renews the run's lease every heartbeat interval, on a thread of its own
/// for as long as the executor runs (a clone, a diff or a wait for the
/// writer may block any other thread). A renewal that finds the lease taken
/// away (the run was declared lost) means this executor must stop: `isHeld`
/// turns false and `lost` is called.
final class LeaseKeeper: Service, @unchecked Sendable {
    private let renew: @Sendable () throws -> Bool
    private let interval: Double
    private let held = Atomic<Bool>(true)
    private let stopped = Atomic<Bool>(false)
    /// Signalled to end the thread's wait between two renewals early.
    private let wake = DispatchSemaphore(value: 0)
    private let lost: @Sendable () -> Void

    /// `renew` renews the lease once (false: it is not ours any more).
    init(intervalMilliseconds: Int, renew: @escaping @Sendable () throws -> Bool, lost: @escaping @Sendable () -> Void) {
        self.renew = renew
        self.interval = Double(intervalMilliseconds) / 1000
        self.lost = lost
    }

    /// False once a renewal found the lease taken away.
    var isHeld: Bool { held.load(ordering: .acquiring) }

    /// Renews until the task is cancelled or the lease is lost. A database
    /// error is retried sooner (the lease outlives a few misses).
    func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    var wait = interval
                    while !stopped.load(ordering: .acquiring) {
                        if wake.wait(timeout: .now() + wait) == .success { continue }
                        do {
                            guard try renew() else {
                                held.store(false, ordering: .releasing)
                                lost()
                                break
                            }
                            wait = interval
                        } catch {
                            wait = min(interval, 0.5)
                        }
                    }
                    done.resume()
                }
                thread.name = "lease-keeper"
                thread.start()
            }
        } onCancel: {
            stopped.store(true, ordering: .releasing)
            wake.signal()
        }
    }
}
