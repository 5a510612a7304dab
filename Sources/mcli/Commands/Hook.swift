import ArgumentParser
import Foundation
import magent

/// `mcli hook …`: hooks other agents call; each turns the agent's question into an M approval.
struct Hook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hooks for agents that M runs (see docs/CLAUDE.md).", subcommands: [ClaudeHookCommand.self])
}

/// `mcli hook claude`: Claude Code's PreToolUse hook. Reads the payload on stdin, asks a person
/// through the run's executor, and prints Claude's permission decision JSON (allow or deny with the
/// reason). Outside an M run it answers `ask`, so Claude asks in its own UI.
struct ClaudeHookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claude",
        abstract: "Claude Code PreToolUse hook: ask in M, print allow/deny JSON.",
        discussion: "Install it in .claude/settings.json as a PreToolUse command hook (docs/CLAUDE.md).")

    @Option(help: "Give up after this many seconds (the approval expires and the tool call is denied).")
    var timeout: Double?

    func run() async throws {
        try await runCommand {
            if let timeout, !(timeout > 0) { throw CLIError(description: "--timeout must be a positive number of seconds") }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            let request: AgentRequest
            do {
                var parsed = try ClaudeHook.request(fromPayload: input)
                parsed.timeout = timeout
                request = parsed
            } catch {
                throw CLIError(description: "\(error)")
            }
            guard let client = try? AgentClient.fromEnvironment() else {
                FileHandle.standardOutput.write(ClaudeHook.outsideRun())
                return
            }
            let response = try await AgentCall.send(request, client: client)
            FileHandle.standardOutput.write(ClaudeHook.output(for: response))
        }
    }
}
