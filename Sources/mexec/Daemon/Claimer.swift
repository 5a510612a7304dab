import Foundation
import Logging
import mdb
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Claims queued runs while fewer than `concurrency` run, hands each lease to
/// a fresh executor identity and launches that executor. The daemon claims
/// under its own id (so two daemons never take the same run) and then
/// transfers the lease, so that from then on only the executor's heartbeat
/// keeps the run alive: a dead daemon costs nothing, a dead executor is found.
struct Claimer: Service {
    let db: MDatabase
    let workerId: String
    let concurrency: Int
    let leaseSeconds: Double
    let launcher: ExecutorLauncher
    let logger: Logger

    func run() async throws {
        let watch = try ChangeWatch(path: db.path)
        // Graceful shutdown cancels the loop mid-sleep; that is a clean stop, not an error.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await DaemonQueue.run { [self] in
                        reapExitedExecutors()
                        claimWhileFree()
                    }
                    // Under load every output commit wakes the watch; a claim pass at
                    // most every few ms keeps the daemon cheap when runs are busy.
                    try await Task.sleep(for: .milliseconds(Defaults.claimMinIntervalMilliseconds))
                    // Sleep until someone commits (a new run, a run ending frees a slot),
                    // or a second passes; an idle daemon costs nothing.
                    if (try? await watch.nextChange(timeout: Defaults.claimIdleCheckSeconds)) == nil {
                        try await Task.sleep(for: .milliseconds(Defaults.claimPollIntervalMilliseconds))
                    }
                }
            }
        } catch is CancellationError {}
    }

    private func claimWhileFree() {
        do {
            // The limit is checked inside the claim's own statement: a daemon
            // restarted beside the old one's executors, or a second daemon on
            // the same file, counts every active run on the host.
            while let run = try db.claimNextRun(workerId: workerId, leaseSeconds: leaseSeconds, activeLimit: concurrency) {
                let holder = "exec:\(ProcessInfo.processInfo.hostName):\(run.id):\(UUID().uuidString.prefix(8).lowercased())"
                logger.info("claimed run \(run.id)", metadata: ["run": "\(run.id)", "title": "\(run.title)"])
                guard try db.transferLease(runId: run.id, from: workerId, to: holder, leaseSeconds: leaseSeconds) else {
                    logger.warning("run \(run.id) was taken away before its executor started")
                    continue
                }
                do {
                    let pid = try launcher.launch(runId: run.id, holder: holder)
                    logger.info("run \(run.id) handed to executor pid \(pid)", metadata: ["run": "\(run.id)", "holder": "\(holder)"])
                } catch {
                    logger.error("cannot launch the executor of run \(run.id): \(error)")
                    _ = try? db.finishRun(runId: run.id, status: .failed, workerId: holder,
                                      notice: "mexec could not start the run's executor: \(error)")
                }
            }
        } catch {
            logger.warning("claiming failed: \(error); retrying")
        }
    }

    /// Executors are our children until we exit; collect the ones that ended
    /// so they do not linger as zombies.
    private func reapExitedExecutors() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }
}
