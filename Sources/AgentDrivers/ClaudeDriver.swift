import mdb

/// `agent: "claude"`: Claude Code in headless streaming mode (`claude -p --output-format stream-json
/// --input-format stream-json --verbose`). Prompts and inputs are user-message lines on its stdin; its
/// JSON lines become events. Tool permissions do not pass through the driver: the run's PreToolUse hook
/// (`mcli hook claude`, given per run with `--settings`, never by editing the person's settings) asks
/// the executor over the run's agent socket, which makes the approval; a rejection's note reaches
/// Claude as the hook's reason. Never `--dangerously-skip-permissions`.
public struct ClaudeDriver: AgentDriver {
    public static let kind = "claude"

    /// The tools whose calls are approvals in M (the others follow Claude Code's own rules, which in
    /// headless mode allow reading and refuse what would need a prompt).
    public static let approvedTools = "Bash|Edit|MultiEdit|Write|NotebookEdit"

    /// The hook's command line (`mcli` is on every run's PATH).
    public var hookCommand: String

    /// A driver whose PreToolUse hook runs `hookCommand`.
    public init(hookCommand: String = "mcli hook claude") {
        self.hookCommand = hookCommand
    }

    /// The `--settings` JSON that installs the hook for this run only.
    public var settings: String {
        let hook: JSONValue = ["hooks": ["PreToolUse": [["matcher": .string(Self.approvedTools),
                                                         "hooks": [["type": "command", "command": .string(hookCommand)]]]]]]
        return hook.text
    }

    /// The run's command (`claude` and the person's own options) plus the streaming flags and the hook.
    public func arguments(for command: [String]) -> [String] {
        var argv = command.filter { $0 != "--dangerously-skip-permissions" }
        for flag in ["-p", "--verbose"] where !argv.contains(flag) && !(flag == "-p" && argv.contains("--print")) {
            argv.append(flag)
        }
        for (option, value) in [("--output-format", "stream-json"), ("--input-format", "stream-json")] {
            if let at = argv.firstIndex(of: option), at + 1 < argv.count { argv[at + 1] = value } else { argv += [option, value] }
        }
        return argv + ["--settings", settings]
    }

    public func run(host: any DriverHost, agent: AgentStdio, prompt: String?) async -> DriverEnd {
        await ClaudeSession(host: host, agent: agent).run(prompt: prompt)
    }
}
