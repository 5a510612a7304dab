import Foundation
import Logging
import MProcess
import MSystemd
import NIOPosix
import ServiceLifecycle
import mdb

/// What mweb tells the machine about itself: a `web_listeners` row (where it
/// listens, whether with TLS: `mcli doctor` reads it), marked stopped on a
/// clean shutdown; and, under systemd, READY=1 once it serves, WATCHDOG=1 at
/// half the unit's WatchdogSec, STOPPING=1 on its way out.
final class Presence: Service, @unchecked Sendable {
    private let db: MDatabase
    private let config: AppConfig
    private let systemd: Systemd
    private let logger: Logger
    private let listenerId = LockedValue<Int64?>(nil)

    init(db: MDatabase, config: AppConfig, systemd: Systemd = Systemd(), logger: Logger) {
        self.db = db
        self.config = config
        self.systemd = systemd
        self.logger = logger
    }

    /// Called once the server accepts connections on `port`.
    func listening(port: Int) async {
        let (db, config) = (self.db, self.config)
        let pid = getpid()
        do {
            // A write can wait for mexec's lock: not on the cooperative pool.
            let id = try await NIOThreadPool.singleton.runIfActive {
                try db.recordWebListener(hostname: ProcessInfo.processInfo.hostName, pid: pid,
                                         startTicks: ProcStat.read(pid)?.startTicks, host: config.host, port: port,
                                         tls: config.tls != nil, publicURL: config.publicURL)
            }
            listenerId.set(id)
        } catch {
            logger.warning("cannot record where mweb listens (mcli doctor will not see it)", metadata: ["error": "\(error)"])
        }
        systemd.notify("READY=1\nSTATUS=serving on \(config.host):\(port)\(config.tls != nil ? " with TLS" : "")")
    }

    /// Pings the watchdog until shutdown, then marks the listener stopped.
    func run() async throws {
        if let interval = systemd.watchdogInterval {
            do {
                try await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        self.systemd.notify("WATCHDOG=1")
                        try await Task.sleep(for: interval)
                    }
                }
            } catch is CancellationError {}
        } else {
            try? await gracefulShutdown()
        }
        systemd.notify("STOPPING=1")
        if let id = listenerId.get() {
            let db = self.db
            try? await NIOThreadPool.singleton.runIfActive { try db.stopWebListener(id: id) }
        }
    }
}

/// A value behind a lock, for state a callback sets and a service reads.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
}
