import ArgumentParser
import Foundation
import MTranscript
import mdb

/// `mcli export ID [--format html|jsonl]`: a run's transcript on stdout,
/// read from the database a page at a time (the same text as
/// `GET /api/v1/runs/{id}/transcript`).
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's transcript to stdout: a self-contained HTML page or JSON lines of its events.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The run's id.")
    var run: Int64

    @Option(help: "html (a page that needs no scripts) or jsonl (one wire event per line).")
    var format: String = Transcript.Format.html.rawValue

    func run() async throws {
        try await runCommand {
            guard let format = Transcript.Format(rawValue: format) else {
                throw CLIError(description: "--format \(self.format) is not known: use html or jsonl")
            }
            let db = try global.open()
            let runId = run
            // Reading a big run blocks: on a thread of its own, never on the cooperative pool.
            try await offThePool {
                try db.writeTranscript(runId: runId, format: format) { Output.raw($0) }
            }
        }
    }
}
