import Foundation
import Logging
import MSystemd
import mdb
import ServiceLifecycle

/// Keeps the daemon's `workers` row fresh and, under systemd, reports status
/// and pings the watchdog (at half its timeout) from the same loop.
struct WorkerHeartbeat: Service {
    let db: MDatabase
    let workerId: String
    let intervalMilliseconds: Int
    let systemd: Systemd
    let logger: Logger

    func run() async throws {
        let interval = min(Duration.milliseconds(intervalMilliseconds), systemd.watchdogInterval ?? .seconds(3600))
        // Graceful shutdown cancels the loop mid-sleep; that is a clean stop, not an error.
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    let status = await DaemonQueue.run { [self] in
                        let active = (try? db.activeRunCount()) ?? -1
                        let status = active >= 0 ? "\(active) run(s) executing" : "database unavailable"
                        do { try db.heartbeatWorker(id: workerId, status: status) } catch {
                            logger.warning("worker heartbeat failed: \(error)")
                        }
                        return status
                    }
                    systemd.notify("WATCHDOG=1\nSTATUS=\(status)")
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {}
    }
}
