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
        for path in options.sandboxRead { argv += ["--sandbox-read", path] }
        for path in options.sandboxWrite { argv += ["--sandbox-write", path] }
        return try Spawn.start(argv, environment: Self.environment(), directory: "/", stdio: .descriptors(null, log, log), group: .newSession)
    }

    /// The executor's environment: only what it and its agent's clean environment
    /// (`AgentEnvironment`) use. Whatever else the daemon was started with (API keys,
    /// tokens, the unit's notify socket and watchdog) stays with the daemon: an
    /// agent can read its executor's `/proc/PID/environ` when it is not confined.
    static func environment(_ inherited: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env: [String: String] = [:]
        for key in ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TERM", "TMPDIR", "SSH_AUTH_SOCK",
                    Defaults.workspacesEnvironmentVariable] {
            if let value = inherited[key], !value.isEmpty { env[key] = value }
        }
        // A clone may need the proxy; one with a password in it is a secret and stays out.
        for key in ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"] {
            if let value = inherited[key], !value.isEmpty, !value.contains("@") { env[key] = value }
        }
        return env
    }

    private var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
