/// `agent: "acp"`: any agent speaking the Agent Client Protocol v1 (JSON-RPC 2.0 over stdio), such
/// as Gemini CLI (`gemini --experimental-acp`). M is the client: it opens one session in the run's
/// workspace, sends the prompt and each input as `session/prompt`, turns `session/update`s into events
/// and permission requests into approvals, and serves files and terminals inside the workspace.
public struct ACPDriver: AgentDriver {
    public static let kind = "acp"

    /// The ACP protocol version M speaks.
    public static let protocolVersion: Int64 = 1

    /// A driver.
    public init() {}

    /// The run's command as it is: an ACP agent speaks on its stdio when started.
    public func arguments(for command: [String]) -> [String] { command }

    public func run(host: any DriverHost, agent: AgentStdio, prompt: String?) async -> DriverEnd {
        await ACPSession(host: host, agent: agent).run(prompt: prompt)
    }
}
