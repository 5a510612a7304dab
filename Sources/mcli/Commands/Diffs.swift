import ArgumentParser
import Foundation
import mdb

/// `mcli diffs RUN`: a run's diffs, newest first.
struct Diffs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a run's diffs, newest first.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The run's id.")
    var run: Int64

    func run() async throws {
        try await runCommand {
            let diffs = try global.open().diffs(runId: run)
            if global.json { Output.line(JSONValue.object([("diffs", .array(diffs.map { $0.wireJSON(withPatch: false) }))]).text); return }
            if diffs.isEmpty { Output.line("run \(run) has no diffs"); return }
            Output.line(Table.render(header: ["ID", "STATUS", "FILES", "+", "-", "CREATED", "MESSAGE"], rows: diffs.map {
                let files = (try? JSONValue.parse($0.files)).flatMap { value -> Int? in
                    if case .array(let items) = value { return items.count } else { return nil }
                } ?? 0
                return [String($0.id), $0.status, String(files), String($0.additions), String($0.deletions),
                        $0.createdAt, String($0.message.prefix(60))]
            }))
        }
    }
}
