import ArgumentParser
import Foundation
import mdb

/// `mcli cancel ID`: asks a run to stop (SIGINT, SIGTERM, then SIGKILL).
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a run.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The run's id.")
    var id: Int64

    func run() async throws {
        try await runCommand {
            let run = try global.open().requestCancel(runId: id, by: "cli")
            if global.json { Output.line(Output.json(run)) } else {
                Output.line(run.status == .canceled ? "run \(id) canceled" : "cancel requested for run \(id)")
            }
        }
    }
}
