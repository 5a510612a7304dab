import Foundation
import Logging
import mdb

/// Renews the run's lease every heartbeat interval. A renewal that finds the
/// lease taken away (the run was declared lost) means this executor must stop.
final class LeaseKeeper: @unchecked Sendable {
    private let db: MDatabase
    private let runId: Int64
    private let holder: String
    private let leaseSeconds: Double
    private let interval: Double
    private var next = Date()
    private var held = true

    init(db: MDatabase, runId: Int64, holder: String, leaseSeconds: Double, intervalMilliseconds: Int) {
        self.db = db
        self.runId = runId
        self.holder = holder
        self.leaseSeconds = leaseSeconds
        self.interval = Double(intervalMilliseconds) / 1000
        next = Date().addingTimeInterval(interval)
    }

    /// Milliseconds until the next renewal is due.
    var millisecondsUntilDue: Int { max(0, Int((next.timeIntervalSinceNow * 1000).rounded(.up))) }

    /// Renews when due; false once the lease is no longer ours. A database
    /// error is retried at the next tick (the lease outlives a few misses).
    func beatIfDue() -> Bool {
        guard held else { return false }
        guard Date() >= next else { return true }
        do {
            held = try db.renewLease(runId: runId, workerId: holder, leaseSeconds: leaseSeconds)
            next = Date().addingTimeInterval(interval)
        } catch {
            next = Date().addingTimeInterval(min(interval, 0.5))
        }
        return held
    }
}
