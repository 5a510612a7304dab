import ArgumentParser
import Foundation
import mdb

/// `mcli approve AID`: approves a pending approval.
struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve a pending approval.")
    @OptionGroup var decision: DecisionOptions
    func run() async throws { try await decision.decide(.approve) }
}

/// `mcli reject AID`: rejects a pending approval.
struct Reject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reject a pending approval.")
    @OptionGroup var decision: DecisionOptions
    func run() async throws { try await decision.decide(.reject) }
}

/// What approve and reject share: the approval, a note, and who decided.
struct DecisionOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    @Argument(help: "The approval's id.")
    var id: Int64

    @Option(help: "A note for the agent (why, or what to do instead).")
    var note: String?

    @Flag(help: "Do not ask again for the same thing (agents that offer it).")
    var always = false

    func decide(_ decision: Decision) async throws {
        try await runCommand {
            let by = "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "operator")
            let approval = try global.open().resolveApproval(id: id, decision: decision, by: by, note: note, always: always)
            if global.json { Output.line(Output.json(approval)) } else {
                Output.line("approval \(id) \(approval.status.rawValue)")
            }
        }
    }
}
