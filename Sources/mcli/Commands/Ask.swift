import ArgumentParser
import Foundation
import magent

/// `mcli ask TEXT`: from inside a run, asks a person and waits for the answer.
/// It talks only to the run's executor through `M_AGENT_SOCKET`, never to the
/// database, and no agent-side command can decide an approval.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask for approval from inside a run; exit 0 approved, 1 rejected.",
        discussion: "Blocks until a person approves or rejects (mcli approve/reject, or the app). Prints the note, if any.")

    @Argument(help: "The question for the person.")
    var text: String

    @Option(help: "The approval's kind (default: ask).")
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
            let response: AgentResponse
            do {
                // The call blocks for as long as the person takes: keep it off the cooperative pool.
                response = try await withCheckedThrowingContinuation { continuation in
                    Thread { continuation.resume(with: Result { try client.send(request) }) }.start()
                }
            } catch {
                throw CLIError(description: "\(error)")
            }
            guard response.ok, let decision = response.decision else {
                throw CLIError(description: response.error ?? "the run's executor refused the request")
            }
            if let note = response.note, !note.isEmpty { Output.line(note) }
            switch decision {
            case "approved": return
            case "rejected": throw ExitCode(1)
            default:
                Output.error("mcli: the approval was \(decision) without a decision")
                throw ExitCode(1)
            }
        }
    }
}
