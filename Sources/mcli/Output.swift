import ArgumentParser
import Foundation
import mdb

/// Printing for people and for scripts, and the one-line error convention.
enum Output {
    /// Writes a line to stdout and flushes (another program may be waiting for it).
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes raw text to stdout without a newline.
    static func raw(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes a line to stderr.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Encodes a value as JSON (snake_case keys come from the records' CodingKeys).
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

/// An error the CLI prints as one line, exiting with `code`.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var code: Int32 = 2
}

/// Runs a command body, turning `MDBError`s and `CLIError`s into one clear
/// line on stderr and a non-zero exit (never a stack trace).
func runCommand(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as MDBError {
        Output.error("mcli: \(error.description)")
        throw ExitCode(error.exitCode)
    } catch let error as CLIError {
        Output.error("mcli: \(error.description)")
        throw ExitCode(error.code)
    }
}

extension MDBError {
    /// Every error exits 2, so that 1 stays free for a "no" answer
    /// (`mcli ask` rejected, `mcli propose` rejected).
    var exitCode: Int32 { 2 }
}
