/// `agent: "codex"`: Codex's app-server (`codex app-server`, JSON-RPC over stdio). One thread per run
/// in the workspace, one turn per prompt or input; its items (messages, reasoning, commands, file
/// changes, plans) become events, its approval requests M approvals: commands as `command`, file
/// changes as `diff` with the change shown.
public struct CodexDriver: AgentDriver {
    public static let kind = "codex"

    /// When Codex asks (`thread/start`'s `approvalPolicy`): `on-request` lets the model ask for what
    /// its sandbox does not allow.
    public var approvalPolicy: String
    /// Codex's own sandbox for the thread (`read-only`, `workspace-write`, `danger-full-access`, or nil
    /// for its configuration's). `read-only` (the default) makes every file change and every command
    /// that writes an approval in M.
    public var sandbox: String?

    /// A driver.
    public init(approvalPolicy: String = "on-request", sandbox: String? = "read-only") {
        self.approvalPolicy = approvalPolicy
        self.sandbox = sandbox
    }

    /// The run's command (`codex` and the person's options, such as `-c model=…`) plus `app-server`.
    public func arguments(for command: [String]) -> [String] {
        command.contains("app-server") ? command : command + ["app-server"]
    }

    public func run(host: any DriverHost, agent: AgentStdio, prompt: String?) async -> DriverEnd {
        await CodexSession(host: host, agent: agent, driver: self).run(prompt: prompt)
    }
}
