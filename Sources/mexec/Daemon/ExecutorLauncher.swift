import Foundation
import Logging
import mdb
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// Starts a run's executor as `mexec executor …` in a session of its own,
/// with its stdio on a log file: nothing ties it to the daemon, so killing
/// or restarting the daemon (systemd `KillMode=process`) leaves it running.
struct ExecutorLauncher: Sendable {
    let options: ExecOptions
    let logger: Logger

    /// Launches the executor for `runId` as lease holder `holder`; returns its pid.
    func launch(runId: Int64, holder: String) throws -> pid_t {
        let runsDir = Defaults.runsDirectory(databasePath: options.databasePath)
        try FileManager.default.createDirectory(atPath: runsDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let logPath = "\(runsDir)/\(runId).executor.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if log >= 0 { close(log) }; if null >= 0 { close(null) } }
        guard log >= 0, null >= 0 else {
            throw SpawnError(description: "cannot open the executor log \(logPath): \(String(cString: strerror(errno)))")
        }
        var argv = [selfPath, "executor", "--db", options.databasePath, "--run", String(runId), "--lease-holder", holder,
                    "--workspaces", options.workspacesRoot, "--lease-seconds", String(options.leaseSeconds),
                    "--heartbeat-ms", String(options.heartbeat), "--output-cap-bytes", String(options.outputCapBytes)]
        if let grace = options.cancelGraceMilliseconds { argv += ["--cancel-grace-ms", String(grace)] }
        var env = ProcessInfo.processInfo.environment
        // The unit's notify socket and watchdog belong to the daemon alone.
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        env.removeValue(forKey: "WATCHDOG_PID")
        return try Spawn.start(argv, environment: env, directory: "/", stdio: .descriptors(null, log, log), group: .newSession)
    }

    private var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
