import ArgumentParser
import Foundation
import Logging
import mdb
import MSandbox

/// `mexec`: the worker daemon, and (hidden) the per-run executor it launches.
@main
struct MExec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mexec",
        abstract: "Claim queued M runs and execute them, one detached executor per run.",
        subcommands: [DaemonCommand.self, ExecutorCommand.self],
        defaultSubcommand: DaemonCommand.self
    )
}

/// Options the daemon and its executors share.
struct ExecOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the database (default: $M_DB, else ./m.db).")
    var db: String?

    @Option(name: .long, help: "Root of the per-run workspaces (default: $M_WORKSPACES, else $XDG_STATE_HOME/m/workspaces/<db path>, never beside the database).")
    var workspaces: String?

    @Option(name: .customLong("lease-seconds"), help: "How long a run's lease lasts without a heartbeat.")
    var leaseSeconds: Double = Defaults.leaseDurationSeconds

    @Option(name: .customLong("heartbeat-ms"), help: "How often leases are renewed (default: a third of the lease).")
    var heartbeatMilliseconds: Int?

    @Option(name: .customLong("output-cap-bytes"), help: "Output stored per run before the rest is discarded.")
    var outputCapBytes: Int64 = Defaults.outputCapBytes

    @Option(name: .customLong("cancel-grace-ms"), help: "Wait after SIGINT and again after SIGTERM before escalating.")
    var cancelGraceMilliseconds: Int?

    @Option(name: .customLong("sandbox-read"),
            help: "A folder or file every confined agent may read (repeatable), e.g. a toolchain outside /usr.")
    var sandboxRead: [String] = []

    @Option(name: .customLong("sandbox-write"),
            help: "A folder or file every confined agent may read and write (repeatable), e.g. ~/.claude for an agent's login.")
    var sandboxWrite: [String] = []

    /// The database path, made absolute (executors and agents have other CWDs).
    var databasePath: String { absolute(Defaults.databasePath(explicit: db)) }

    /// The workspaces root: the flag, else `M_WORKSPACES`, else `Defaults.workspacesRoot` (not beside the database).
    var workspacesRoot: String {
        if let workspaces, !workspaces.isEmpty { return absolute(workspaces) }
        let environment = ProcessInfo.processInfo.environment
        if let env = environment[Defaults.workspacesEnvironmentVariable], !env.isEmpty {
            return absolute(env)
        }
        return Defaults.workspacesRoot(databasePath: databasePath, environment: environment)
    }

    /// The heartbeat interval in milliseconds.
    var heartbeat: Int { heartbeatMilliseconds ?? max(100, Int(leaseSeconds * 1000 / 3)) }

    func validate() throws {
        guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1") }
        if let heartbeatMilliseconds, heartbeatMilliseconds < 50 || Double(heartbeatMilliseconds) >= leaseSeconds * 1000 {
            throw ValidationError("--heartbeat-ms must be at least 50 and shorter than the lease")
        }
        guard outputCapBytes > 0 else { throw ValidationError("--output-cap-bytes must be positive") }
        guard Defaults.outputWriterSocketPath(databasePath: databasePath) != nil else {
            throw ValidationError("the database path is too long for the output writer's socket (\(Defaults.runsDirectory(databasePath: databasePath))/writer.sock must be under 100 bytes): move the database to a shorter path")
        }
        for path in sandboxRead + sandboxWrite {
            if let refusal = SandboxPaths.refusal(path, databasePath: databasePath, workspacesRoot: workspacesRoot) {
                throw ValidationError(refusal)
            }
        }
        if let cancelGraceMilliseconds, cancelGraceMilliseconds < 0 {
            throw ValidationError("--cancel-grace-ms must not be negative")
        }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// Logs to stderr, one line per event.
func makeLogger(_ label: String) -> Logger {
    LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    return Logger(label: label)
}
