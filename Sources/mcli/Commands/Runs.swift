import ArgumentParser
import Foundation
import mdb

/// `mcli runs`: lists runs, newest first.
struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List runs, newest first.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "How many runs to list (1-1000).")
    var limit: Int = 50

    @Option(help: "Only runs in this status (queued, running, waiting_approval, succeeded, failed, canceled, lost).")
    var status: RunStatus?

    func run() async throws {
        try await runCommand {
            guard (1...1000).contains(limit) else { throw CLIError(description: "--limit must be between 1 and 1000") }
            let runs = try global.open().runs(limit: limit, status: status)
            if global.json {
                Output.line(Output.json(["runs": runs]))
                return
            }
            if runs.isEmpty { Output.line("no runs"); return }
            Output.line(Table.render(header: ["ID", "STATUS", "EXIT", "CREATED", "TITLE"], rows: runs.map {
                [String($0.id), $0.status.rawValue, $0.exitCode.map(String.init) ?? "-", $0.createdAt,
                 String($0.title.prefix(60))]
            }))
        }
    }
}

extension RunStatus: ExpressibleByArgument {}
