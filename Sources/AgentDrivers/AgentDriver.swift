/// One kind of agent (`acp`, `claude`, `codex`): how to start it and how to hold a conversation
/// with it over its stdio. The host starts the process with `arguments(for:)`, hands over its stdin
/// and stdout, keeps its stderr as raw output, and calls `run` once.
public protocol AgentDriver: Sendable {
    /// The run spec's `agent` value this driver serves.
    static var kind: String { get }

    /// The command line that starts the agent, from the run's `command`/`argv` (the driver adds the
    /// flags its protocol needs, such as Claude Code's stream-json options).
    func arguments(for command: [String]) -> [String]

    /// Holds the conversation: the first prompt (if any), then one turn per input, until `eof`, a
    /// cancel or the agent's exit. Returns once the agent has closed its stdout (or after a cancel,
    /// once the current turn stopped); never throws: what went wrong is in the events and the result.
    func run(host: any DriverHost, agent: AgentStdio, prompt: String?) async -> DriverEnd
}
