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
    /// How long the run's approvals wait for a person, and what they become then.
    public var approvals: ApprovalPolicy?

    public init(command: String? = nil, argv: [String]? = nil, prompt: String? = nil, pty: Bool? = nil,
                env: [String: String]? = nil, target: String? = nil, sandbox: String? = nil, network: Bool? = nil,
                limits: RunLimits? = nil, approvals: ApprovalPolicy? = nil) {
        self.command = command
        self.argv = argv
        self.prompt = prompt
        self.pty = pty
        self.env = env
        self.target = target
        self.sandbox = sandbox
        self.network = network
        self.limits = limits
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

    enum CodingKeys: String, CodingKey {
        case timeoutSeconds = "timeout_s"
    }

    public init(timeoutSeconds: Int? = nil) {
        self.timeoutSeconds = timeoutSeconds
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
