import Foundation

/// What a run executes, stored as JSON in `runs.spec`.
public struct RunSpec: Codable, Sendable, Equatable {
    /// Shell text for `/bin/sh -c` (exclusive with `argv`).
    public var command: String?
    /// An argument vector, executed without a shell.
    public var argv: [String]?
    /// The first message for agent drivers.
    public var prompt: String?
    /// Run under a pseudo-terminal (merged output, interactive agents).
    public var pty: Bool?
    /// Extra environment for the agent process.
    public var env: [String: String]?
    /// Where an approved diff is also applied (a local checkout path).
    public var target: String?
    /// The agent's confinement: `bwrap` (the default when it works) or `none`.
    public var sandbox: String?
    /// False: the confined agent has no network (default true).
    public var network: Bool?
    /// Per-run resource limits.
    public var limits: RunLimits?
    /// Paths this run's confined agent may also read, or read and write.
    public var sandboxPaths: SandboxPaths?
    /// How long the run's approvals wait for a person, and what they become then.
    public var approvals: ApprovalPolicy?

    enum CodingKeys: String, CodingKey {
        case command, argv, prompt, pty, env, target, sandbox, network, limits, approvals
        case sandboxPaths = "sandbox_paths"
    }

    public init(command: String? = nil, argv: [String]? = nil, prompt: String? = nil, pty: Bool? = nil,
                env: [String: String]? = nil, target: String? = nil, sandbox: String? = nil, network: Bool? = nil,
                limits: RunLimits? = nil, sandboxPaths: SandboxPaths? = nil, approvals: ApprovalPolicy? = nil) {
        self.command = command
        self.argv = argv
        self.prompt = prompt
        self.pty = pty
        self.env = env
        self.target = target
        self.sandbox = sandbox
        self.network = network
        self.limits = limits
        self.sandboxPaths = sandboxPaths
        self.approvals = approvals
    }

    /// The spec as compact JSON text (keys sorted, so rows compare cleanly).
    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Parses a `runs.spec` value.
    public static func decode(_ text: String) throws -> RunSpec {
        try JSONDecoder().decode(RunSpec.self, from: Data(text.utf8))
    }
}

/// What a run may use before it is ended with a notice that names the limit.
public struct RunLimits: Codable, Sendable, Equatable {
    /// Wall-clock seconds from the agent's start; past it the run is stopped (SIGINT, SIGTERM,
    /// SIGKILL, as a cancel) and ends `failed`.
    public var timeoutSeconds: Int?
    /// Output bytes kept (all streams together; the smaller of this and the daemon's
    /// `--output-cap-bytes`); reaching it stops the run, which ends `failed`.
    public var outputBytes: Int64?
    /// Memory of the agent's processes together, in MiB (a cgroup's `memory.max`); a process
    /// killed for lack of it stops the run.
    public var memoryMB: Int?
    /// Processes and threads of the agent together (a cgroup's `pids.max`); a fork refused
    /// for it stops the run.
    public var pids: Int?

    enum CodingKeys: String, CodingKey {
        case timeoutSeconds = "timeout_s"
        case outputBytes = "output_bytes"
        case memoryMB = "memory_mb"
        case pids
    }

    /// The smallest `memory_mb` a run may ask for: the sandbox and a shell need a few MiB.
    public static let minimumMemoryMB = 16
    /// The smallest `pids` a run may ask for: bubblewrap and a shell are already three.
    public static let minimumPids = 8

    public init(timeoutSeconds: Int? = nil, outputBytes: Int64? = nil, memoryMB: Int? = nil, pids: Int? = nil) {
        self.timeoutSeconds = timeoutSeconds
        self.outputBytes = outputBytes
        self.memoryMB = memoryMB
        self.pids = pids
    }

    /// Why these limits cannot be taken, or nil.
    public func refusal() -> String? {
        if let timeoutSeconds, timeoutSeconds <= 0 { return "limits.timeout_s must be a positive number of seconds" }
        if let outputBytes, outputBytes <= 0 { return "limits.output_bytes must be a positive number of bytes" }
        if let memoryMB, memoryMB < Self.minimumMemoryMB {
            return "limits.memory_mb must be at least \(Self.minimumMemoryMB) (MiB; the sandbox and a shell need a few)"
        }
        if let pids, pids < Self.minimumPids {
            return "limits.pids must be at least \(Self.minimumPids) (the sandbox and a shell are already three processes)"
        }
        return nil
    }
}

/// Extra paths one run's confined agent may reach, beside the daemon-wide `--sandbox-read/--sandbox-write`.
public struct SandboxPaths: Codable, Sendable, Equatable {
    /// Bound read-only.
    public var read: [String]?
    /// Bound read-write.
    public var write: [String]?

    public init(read: [String]? = nil, write: [String]? = nil) {
        self.read = read
        self.write = write
    }

    /// Every path, read-only ones first.
    public var all: [String] { (read ?? []) + (write ?? []) }

    /// Why `path` cannot be given to confined agents, or nil: it must be absolute, and neither
    /// hold nor sit inside the database's folder (with the runs directory) or the workspaces root.
    public static func refusal(_ path: String, databasePath: String, workspacesRoot: String) -> String? {
        guard path.hasPrefix("/") else { return "sandbox path \(path) must be absolute" }
        let clean = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        for (kept, what) in [((databasePath as NSString).deletingLastPathComponent, "the database's folder"),
                             (workspacesRoot, "the workspaces root")] {
            let keptClean = URL(fileURLWithPath: kept).standardizedFileURL.resolvingSymlinksInPath().path
            for candidate in Set([kept, keptClean]) where clean == "/" || candidate == clean
                || candidate.hasPrefix(clean + "/") || clean.hasPrefix(candidate + "/") {
                return "sandbox path \(path) would let agents reach \(what) (\(kept)); give a path outside it"
            }
        }
        return nil
    }
}

/// A run's approvals: the default wait (an agent's own `--timeout` wins) and
/// what an unanswered approval becomes when it expires.
public struct ApprovalPolicy: Codable, Sendable, Equatable {
    /// Seconds an approval waits unanswered before it expires (nil: forever, unless the request gives one).
    public var timeoutSeconds: Int?
    /// `reject` (the default: status `expired`, which the agent reads as a no) or `approve`.
    public var onExpiry: String?

    enum CodingKeys: String, CodingKey {
        case timeoutSeconds = "timeout_s", onExpiry = "on_expiry"
    }

    public init(timeoutSeconds: Int? = nil, onExpiry: String? = nil) {
        self.timeoutSeconds = timeoutSeconds
        self.onExpiry = onExpiry
    }
}
