import Foundation

/// Tunables of `mexec` and its per-run executors, with their units in their names.
extension Defaults {
    /// Runs a daemon executes at once (`mexec --concurrency`, `mcli up --concurrency`).
    /// Agents mostly wait on a model API, so this is well above the core count.
    public static let concurrency: Int = 8
    /// How long a cancel waits after SIGINT before sending SIGTERM to the agent's group.
    public static let cancelInterruptGraceMilliseconds: Int = 3_000
    /// How long a cancel waits after SIGTERM before sending SIGKILL.
    public static let cancelTerminateGraceMilliseconds: Int = 3_000
    /// Largest `output` event text (bytes); longer lines are split over several events.
    public static let outputEventMaxBytes: Int = 64 * 1024
    /// Output bytes stored per run; past it, output is drained and discarded after a `notice`.
    public static let outputCapBytes: Int64 = 1 << 30
    /// How often the daemon's writer looks for new requests (input, cancel, diff
    /// requests) of the runs whose executors it serves, and rings their executors.
    public static let requestBellIntervalMilliseconds: Int = 10
    /// How often an executor looks for its run's requests without being rung:
    /// a safety net for a lost ring, and the only look while no writer is up.
    public static let requestSafetyNetMilliseconds: Int = 1_000
    /// How often an executor retries input the agent did not take (its stdin
    /// pipe is full), and looks for its agent's exit where the kernel has no pidfd.
    public static let controlRetryMilliseconds: Int = 50
    /// How long an executor waits for the agent's pipes to close after the agent
    /// exited (background children may hold them) before killing its group.
    public static let drainAfterExitMilliseconds: Int = 500
    /// How often the daemon looks for expired leases.
    public static let reapIntervalMilliseconds: Int = 1_000
    /// How long the daemon waits after a failed change check before trying again.
    public static let claimPollIntervalMilliseconds: Int = 10
    /// Shortest pause between two claim passes (bounds the daemon's work when busy runs commit all the time).
    public static let claimMinIntervalMilliseconds: Int = 25
    /// How often the daemon looks for queued runs when no commit woke it.
    public static let claimIdleCheckSeconds: Double = 1
    /// The host's shared output writer socket, beside the database (in `runs/`);
    /// nil when the path would not fit a Unix socket address (executors then write directly).
    public static func outputWriterSocketPath(databasePath: String) -> String? {
        let path = runsDirectory(databasePath: databasePath) + "/writer.sock"
        return path.utf8.count < 100 ? path : nil
    }
    /// The lock file whose holder serves `outputWriterSocketPath` (one daemon per database and host).
    public static func outputWriterLockPath(databasePath: String) -> String {
        runsDirectory(databasePath: databasePath) + "/writer.lock"
    }
    /// The directory beside the database for executor logs, run sockets and the writer socket.
    public static func runsDirectory(databasePath: String) -> String {
        let dir = (databasePath as NSString).deletingLastPathComponent
        return (dir.isEmpty ? "." : dir) + "/runs"
    }
    /// How often an executor without a writer connection tries to connect again (its agent's output waits meanwhile).
    public static let outputWriterReconnectMilliseconds: Int = 1_000
    /// How long the shared writer waits, once output is ready, for other runs'
    /// output to commit them together (never with one executor connected).
    /// Shorter waits mean more, smaller commits (see docs/MEXEC.md).
    public static let outputWriterGatherMicroseconds: Int = 500
    /// The shared writer's own automatic checkpoint threshold (WAL pages): a
    /// safety net, as the daemon checkpoints every `checkpointIntervalMilliseconds`.
    public static let outputWriterAutoCheckpointPages: Int = 20_000
    /// How often the daemon checkpoints the WAL (PASSIVE) when something was committed.
    public static let checkpointIntervalMilliseconds: Int = 250
    /// The capacity an executor asks for its "consumed" pipes when it delegates
    /// its agent's pipes to the shared writer: the writer moves every stored
    /// round there (a pipe buffer each) and rings the executor to drain it only
    /// when it is full. Not more: past 64 MiB of pipes per user (non-root),
    /// Linux gives every new pipe of that user a single page.
    public static let consumedPipeBytes: Int32 = 128 * 1024
    /// The nice value an executor takes once its agent exited (the final
    /// diff and the run's end wait behind live runs' output under load).
    public static let executorWindDownNice: Int = 10
    /// Largest message the writer accepts (an executor's batch of its own events).
    public static let outputWriterMaxFrameBytes: Int = 16 * 1024 * 1024
    /// Default PTY size for `pty: true` runs.
    public static let ptyColumns: UInt16 = 120
    /// Default PTY size for `pty: true` runs.
    public static let ptyRows: UInt16 = 40
    /// Environment variable overriding the workspaces root.
    public static let workspacesEnvironmentVariable = "M_WORKSPACES"
    /// The workspaces root when neither `--workspaces` nor `M_WORKSPACES` names one:
    /// `$XDG_STATE_HOME/m/workspaces/<the database's path, '/' as '_'>` (XDG_STATE_HOME
    /// defaults to `~/.local/state`). Not beside the database: a workspace's `../..` must
    /// not be the database's folder. One root per database, since run ids are per database.
    public static func workspacesRoot(databasePath: String, environment: [String: String]) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.local/state")
        let key = databasePath.split(separator: "/").joined(separator: "_")
        return "\(state)/m/workspaces/\(key.isEmpty ? "m.db" : key)"
    }
    /// Environment variable naming a run's agent socket (its capability).
    public static let agentSocketEnvironmentVariable = "M_AGENT_SOCKET"
    /// Environment variable naming the run, for agent-side commands.
    public static let runIdEnvironmentVariable = "M_RUN_ID"
}

extension Defaults {
    /// Longest a run's clone (and checkout) may take before the run fails; a cancel stops it sooner.
    public static let cloneTimeoutSeconds: Double = 600
}
