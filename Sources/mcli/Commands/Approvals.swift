import ArgumentParser
import Foundation
import mdb

/// `mcli approvals`: what waits for a decision.
struct Approvals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List approvals (pending ones by default).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Status to list: pending, approved, rejected, expired, canceled.")
    var status: ApprovalStatus = .pending

    @Option(help: "Only this run's approvals.")
    var run: Int64?

    func run() async throws {
        try await runCommand {
            let approvals = try global.open().approvals(status: status, runId: run)
            if global.json { Output.line(Output.json(["approvals": approvals])); return }
            if approvals.isEmpty { Output.line("no \(status.rawValue) approvals"); return }
            Output.line(Table.render(header: ["ID", "RUN", "KIND", "STATUS", "CREATED", "TITLE"], rows: approvals.map {
                [String($0.id), String($0.runId), $0.kind, $0.status.rawValue, $0.createdAt, String($0.title.prefix(60))]
            }))
        }
    }
}

extension ApprovalStatus: ExpressibleByArgument {}
