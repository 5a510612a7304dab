import ArgumentParser
import Foundation
import magent

/// `mcli propose [--message M]`: from inside a run, shows the workspace's changes to a person and
/// waits: approved → committed as the new approved point (exit 0), rejected → the workspace is back
/// at the last approved point and the note is printed (exit 1), nothing changed (exit 3).
struct Propose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Propose the workspace's changes for approval from inside a run.",
        discussion: """
            Exit 0: approved and committed (the commit is printed). Exit 1: rejected (the workspace is back \
            at the last approved point; the note is printed), or expired/canceled (the workspace is left as it is). \
            Exit 3: nothing to propose. Exit 2: error.
            """)

    @Option(help: "The commit message for the change (also the approval's title).")
    var message: String?

    @Option(help: "Give up after this many seconds (the approval expires; exit 1, workspace unchanged).")
    var timeout: Double?

    func run() async throws {
        try await runCommand {
            if let timeout, !(timeout > 0) { throw CLIError(description: "--timeout must be a positive number of seconds") }
            guard let client = try? AgentClient.fromEnvironment() else {
                throw CLIError(description: "mcli propose must run inside an M run (M_AGENT_SOCKET is not set)")
            }
            let response = try await AgentCall.send(AgentRequest(op: AgentRequest.propose, timeout: timeout, message: message),
                                                    client: client)
            switch response.decision {
            case "nothing":
                Output.error("mcli: nothing to propose: the workspace is at its last approved point")
                throw ExitCode(3)
            case "approved":
                Output.line("approved by \(response.by ?? "someone"): committed \(response.commit ?? "?")")
                if let note = response.note, !note.isEmpty { Output.line(note) }
                if let target = response.target { Output.line(target) }
            case "rejected":
                Output.line("rejected by \(response.by ?? "someone"); the workspace is back at the last approved point")
                if let note = response.note, !note.isEmpty { Output.line(note) }
                throw ExitCode(1)
            default:
                Output.line("the proposal was \(response.decision ?? "not decided") without a decision; the workspace is left as it is")
                throw ExitCode(1)
            }
        }
    }
}
