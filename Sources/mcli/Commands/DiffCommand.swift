import ArgumentParser
import Foundation
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// `mcli diff ID`: one diff's patch, coloured in a terminal.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Print a diff's patch (coloured in a terminal; --json: the diff object).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The diff's id (see mcli diffs RUN).")
    var id: Int64

    @Flag(help: "Never colour, even in a terminal.")
    var noColor = false

    func run() async throws {
        try await runCommand {
            let diff = try global.open().diff(id)
            if global.json { Output.line(diff.wireJSON(withPatch: true).text); return }
            // Colour only for a person at a terminal: a pipe or a file gets the plain patch.
            let colour = !noColor && isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            Output.error("diff \(diff.id) of run \(diff.runId) (\(diff.status)): \(diff.additions)+ \(diff.deletions)-")
            Output.raw(colour ? PatchColour.paint(diff.patch) : diff.patch)
        }
    }
}

/// ANSI colours for a unified patch, the way `git diff --color` shows it.
enum PatchColour {
    /// The patch with headers bold, hunks cyan, additions green, deletions red.
    static func paint(_ patch: String) -> String {
        patch.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let code: String?
            if line.hasPrefix("diff --git") || line.hasPrefix("+++ ") || line.hasPrefix("--- ") || line.hasPrefix("index ") {
                code = "1"
            } else if line.hasPrefix("@@") { code = "36" }
            else if line.hasPrefix("+") { code = "32" }
            else if line.hasPrefix("-") { code = "31" }
            else if line.hasPrefix("# M:") { code = "33" }
            else { code = nil }
            return code.map { "\u{1B}[\($0)m\(line)\u{1B}[0m" } ?? String(line)
        }.joined(separator: "\n")
    }
}
