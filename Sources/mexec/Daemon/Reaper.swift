import Foundation
import Logging
import mdb
import MProcess
import ServiceLifecycle

/// Finds runs whose executor stopped heartbeating: each becomes `lost` with
/// a notice, and what the dead executor left behind (the executor itself if
/// it hangs, the agent's process group) is killed, checked by start time so
/// that a reused pid is never hit. Also expires approvals past their deadline.
struct Reaper: Service {
    let db: MDatabase
    let logger: Logger

    func run() async throws {
        // Graceful shutdown cancels the loop mid-sleep; that is a clean stop, not an error.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await DaemonQueue.run { [self] in reapOnce() }
                    try await Task.sleep(for: .milliseconds(Defaults.reapIntervalMilliseconds))
                }
            }
        } catch is CancellationError {}
    }

    func reapOnce() {
        do {
            let expired = try db.expireApprovals()
            for approval in expired { logger.info("approval \(approval.id) of run \(approval.runId) expired") }
            for run in try db.runsWithExpiredLease() {
                let processes = try db.processes(runId: run.id)
                let reason = "the run's executor stopped renewing its lease (held by \(run.workerId ?? "nobody"), expired at \(run.leaseExpiresAt ?? "?")); the run is lost and its processes were ended"
                guard try db.markLostIfExpired(runId: run.id, reason: reason) else { continue }
                var killed = 0
                if let pid = processes.executorPid, let start = processes.executorStartTicks,
                   OrphanKiller.killProcess(pid: pid, startTicks: start) { killed += 1 }
                if let pgid = processes.agentPgid, let start = processes.agentStartTicks {
                    killed += OrphanKiller.killAgentGroup(pgid: pgid, leaderStartTicks: start)
                }
                removePrivateDirectories(runId: run.id)
                logger.warning("run \(run.id) lost: lease expired; \(killed) orphaned process(es) killed",
                               metadata: ["run": "\(run.id)", "holder": "\(run.workerId ?? "")"])
            }
        } catch {
            logger.warning("reaping failed: \(error); retrying")
        }
    }

    /// A killed executor could not remove its run's private directory (the
    /// agent socket): `<db dir>/runs/<id>-XXXXXX`.
    private func removePrivateDirectories(runId: Int64) {
        let runs = Defaults.runsDirectory(databasePath: db.path)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        for entry in entries where entry.hasPrefix("\(runId)-") {
            try? FileManager.default.removeItem(atPath: (runs as NSString).appendingPathComponent(entry))
        }
    }
}
