import Foundation
import Testing
import MProcess
@testable import mgit

/// Serialized: one test ignores SIGPIPE for a moment, which would hide what another checks (that
/// a child closing its stdin early costs the caller nothing, whose SIGPIPE is the default).
@Suite(.serialized) struct ChildProcessTests {
    private let environment = ["PATH": "/usr/bin:/bin"]

    private func sh(_ script: String, stdin: [UInt8] = [], stdoutLimit: Int = 1 << 20) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run("sh", arguments: ["-c", script], environment: environment, stdin: stdin,
                                   stdoutLimit: stdoutLimit, stderrLimit: 1024)
    }

    @Test func keepsTheFirstBytesOfALongOutputAndCountsAll() async throws {
        let out = try await sh("head -c 300000 /dev/zero", stdoutLimit: 1000)
        #expect(out.status == 0)
        #expect(out.stdout.count == 1000)
        #expect(out.stdoutBytes == 300_000)
    }

    @Test func feedsAStdinLargerThanAPipeWhileReadingTheOutput() async throws {
        let input = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let out = try await sh("cat", stdin: input, stdoutLimit: 2 << 20)
        #expect(out.status == 0)
        #expect(out.stdout == input)
    }

    @Test func aChildThatDoesNotReadItsStdinNeitherBlocksNorKillsTheCaller() async throws {
        let out = try await sh("exit 0", stdin: [UInt8](repeating: 65, count: 1 << 20))
        #expect(out.status == 0)
    }

    @Test func reportsTheExitCodeAndStandardError() async throws {
        let out = try await sh("echo oops >&2; exit 3")
        #expect(out.status == 3)
        #expect(String(decoding: out.stderr, as: UTF8.self) == "oops\n")
    }

    @Test func aKilledChildReports128PlusTheSignal() async throws {
        let out = try await sh("kill -9 $$")
        #expect(out.status == 128 + 9)
    }

    @Test func theChildInheritsNoIgnoredSignalAndNoDescriptorBeyondTheThree() async throws {
        // A parent may ignore SIGPIPE (NIO makes mweb do so); a descriptor opened without
        // close-on-exec would leak into a child that does not close it.
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let leaked = open("/dev/null", O_RDONLY)
        defer { close(leaked) }
        #expect(try Self.ignoredSignals(String(contentsOfFile: "/proc/self/status", encoding: .utf8)) & (1 << (SIGPIPE - 1)) != 0)
        let child = try await sh("cat /proc/self/status")
        #expect(Self.ignoredSignals(String(decoding: child.stdout, as: UTF8.self)) & (1 << (SIGPIPE - 1)) == 0)
        let descriptors = try await sh("ls /proc/self/fd")
        // ls's own listing of the directory is the fourth.
        #expect(String(decoding: descriptors.stdout, as: UTF8.self).split(separator: "\n") == ["0", "1", "2", "3"])
    }

    /// The `SigIgn` mask of a `/proc/PID/status` text.
    private static func ignoredSignals(_ status: String) -> UInt64 {
        let line = status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") } ?? ""
        return UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
    }

    @Test func aMissingProgramIsASpawnError() async throws {
        await #expect(throws: SpawnError.self) {
            _ = try await ChildProcess.run("m-no-such-program", arguments: [], environment: environment, stdin: [],
                                           stdoutLimit: 10, stderrLimit: 10)
        }
    }
}
