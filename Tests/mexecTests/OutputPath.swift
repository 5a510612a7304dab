import Foundation
import Testing
import mdb

/// The ways an agent's output reaches the shared writer, which the core
/// output tests run against: the agent's own pipes (stdout and stderr apart),
/// or a PTY whose merged output the executor copies into a pipe.
enum OutputPath: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case pipes, pty

    var testDescription: String { rawValue }

    /// How the executor's log names the streams it hands over.
    var streams: String { self == .pipes ? "stdout and stderr" : "pty" }

    /// Queues `command`; on a PTY with output processing and echo off, so
    /// that the bytes arrive as the agent wrote them.
    func create(_ h: MexecHarness, _ command: String) throws -> Int64 {
        switch self {
        case .pipes: try h.create(command)
        case .pty: try h.create("stty -opost -echo; " + command, pty: true)
        }
    }

    /// The bytes stored of what the agent wrote to stdout, then to stderr (a PTY merges them).
    func output(_ h: MexecHarness, _ id: Int64) throws -> (stdout: [UInt8], stderr: [UInt8]) {
        switch self {
        case .pipes: (try h.output(id, stream: "stdout"), try h.output(id, stream: "stderr"))
        case .pty: (try h.output(id, stream: "pty"), [])
        }
    }

    /// Expects the run to have stored exactly `stdout` and `stderr` (on a PTY, the one after the other).
    func expectOutput(_ h: MexecHarness, _ id: Int64, stdout: [UInt8], stderr: [UInt8] = [],
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let stored = try output(h, id)
        switch self {
        case .pipes:
            #expect(stored.stdout == stdout && stored.stderr == stderr, "\(h.logs)", sourceLocation: sourceLocation)
        case .pty:
            #expect(stored.stdout == stdout + stderr, "\(h.logs)", sourceLocation: sourceLocation)
        }
    }

    /// The stream holding what the agent wrote to stdout.
    var stdout: String { self == .pipes ? "stdout" : "pty" }
}
