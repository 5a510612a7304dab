import ArgumentParser
import Foundation
import Logging
import MSystemd
import mdb
import MSandbox
import ServiceLifecycle

/// `mexec [--db PATH] [--concurrency N] [--workspaces DIR]`: the worker daemon.
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon", abstract: "Claim queued runs and launch an executor for each (the default).")

    @OptionGroup var options: ExecOptions

    @Option(name: .long, help: "How many runs may execute at once on this host.")
    var concurrency: Int = Defaults.concurrency

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        let logger = makeLogger("mexec")
        let db: MDatabase
        do { db = try MDatabase(path: options.databasePath) } catch {
            FileHandle.standardError.write(Data("mexec: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let host = ProcessInfo.processInfo.hostName
        let workerId = "\(host):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
        let systemd = Systemd()
        try db.registerWorker(id: workerId, hostname: host, pid: getpid(), concurrency: concurrency)
        let launcher = ExecutorLauncher(options: options, logger: logger)
        let claimer = Claimer(db: db, workerId: workerId, concurrency: concurrency, leaseSeconds: options.leaseSeconds,
                              launcher: launcher, logger: logger)
        let reaper = Reaper(db: db, logger: logger)
        let heartbeat = WorkerHeartbeat(db: db, workerId: workerId, intervalMilliseconds: options.heartbeat,
                                        systemd: systemd, logger: logger)
        logger.info("worker \(workerId) started: concurrency \(concurrency), workspaces \(options.workspacesRoot)")
        if let moved = RunCgroup.leaveDelegatedRoot() { logger.info("\(moved)") }
        systemd.notify("READY=1\nSTATUS=claiming runs (concurrency \(concurrency))")
        let writer = OutputWriter(databasePath: options.databasePath, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: claimer), .init(service: reaper), .init(service: heartbeat), .init(service: writer)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        systemd.notify("STOPPING=1")
        try? db.stopWorker(id: workerId)
        logger.info("worker \(workerId) stopped; executors keep running")
    }
}
