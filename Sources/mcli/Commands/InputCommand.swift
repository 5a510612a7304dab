import ArgumentParser
import Foundation
import mdb

/// `mcli input ID TEXT`: types text into a running run.
struct InputCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "input", abstract: "Send input to a run.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The run's id.")
    var id: Int64

    @Argument(help: "The text to send (followed by a newline unless --no-newline).")
    var text: String = ""

    @Flag(name: .customLong("no-newline"), help: "Do not press Enter after the text.")
    var noNewline = false

    @Flag(help: "Close the run's stdin after the text.")
    var eof = false

    func run() async throws {
        try await runCommand {
            let input = try global.open().queueInput(runId: id, text: text, newline: !noNewline, eof: eof, source: "cli")
            if global.json { Output.line(Output.json(input)) } else { Output.line("input \(input.id) queued for run \(id)") }
        }
    }
}
