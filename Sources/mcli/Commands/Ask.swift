import ArgumentParser
import Foundation
import magent

/// `mcli ask TEXT`: from inside a run, asks a person and waits for the answer.
/// It talks only to the run's executor through `M_AGENT_SOCKET`, never to the
/// database, and no agent-side command can decide an approval.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask for approval from inside a run; exit 0 approved, 1 rejected.",
        discussion: """
            Blocks until a person approves or rejects (mcli approve/reject, or the app) and prints the note, if any. \
            --kind command shows TEXT as a command to run, verbatim; --kind question asks for a free-text answer \
            (the approver's note), which is printed. An approval that expires (--timeout) exits 1.
            """)

    @Argument(help: "The question for the person.")
    var text: String

    @Option(help: "ask (default), command (TEXT is a command, shown verbatim) or question (the answer is printed).")
    var kind: String?

    @Option(help: "Give up after this many seconds (the approval expires; exit 1).")
    var timeout: Double?

    func run() async throws {
        try await runCommand {
            if let timeout, !(timeout > 0) { throw CLIError(description: "--timeout must be a positive number of seconds") }
            guard let client = try? AgentClient.fromEnvironment() else {
                throw CLIError(description: "mcli ask must run inside an M run (M_AGENT_SOCKET is not set)")
            }
            let request = AgentRequest(op: AgentRequest.ask, text: text, kind: kind, timeout: timeout)
            let response = try await AgentCall.send(request, client: client)
            let decision = response.decision ?? ""
            // For a question the note is the person's answer: it is the output.
            if let note = response.note, !note.isEmpty { Output.line(note) }
            switch decision {
            case "approved": return
            case "rejected": throw ExitCode(1)
            case "expired":
                Output.error("mcli: the approval expired: nobody decided within \(timeout.map { "\($0)" } ?? "its") seconds")
                throw ExitCode(1)
            default:
                Output.error("mcli: the approval was \(decision) without a decision")
                throw ExitCode(1)
            }
        }
    }
}
