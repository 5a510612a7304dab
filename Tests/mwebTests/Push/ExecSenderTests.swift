import Foundation
import MTestSupport
import Testing
@testable import mweb

/// The exec notifier's command runner, with real `sh` processes.
@Suite struct ExecSenderTests {
    @Test func aCommandThatFailsReportsItsStatusAndOutput() throws {
        #expect {
            try ExecSender.run(command: "echo 'bad chat id' >&2; exit 4", payload: "{}", environment: [:], timeoutSeconds: 10)
        } throws: { "\($0)".contains("exited 4") && "\($0)".contains("bad chat id") }
    }

    @Test func aCommandThatHangsIsKilledAtTheTimeout() throws {
        let tmp = TempDir()
        let started = Date()
        #expect {
            try ExecSender.run(command: "echo $$ > \(tmp.file("pid")); sleep 30", payload: "{}", environment: [:],
                               timeoutSeconds: 0.5)
        } throws: { "\($0)".contains("did not finish within") }
        #expect(Date().timeIntervalSince(started) < 10)
        let pid = try #require(Int32(String(contentsOfFile: tmp.file("pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0, "the command's shell is gone")
    }

    @Test func aCommandThatNeverReadsALargePayloadDoesNotTakeMwebDown() throws {
        // More than a pipe holds, to a command that exits without reading: EPIPE, not SIGPIPE.
        let payload = String(repeating: "x", count: 1 << 20)
        try ExecSender.run(command: "exit 0", payload: payload, environment: [:], timeoutSeconds: 10)
        let tmp = TempDir()
        try ExecSender.run(command: "wc -c > \(tmp.file("n"))", payload: payload, environment: ["M_X": "1"], timeoutSeconds: 10)
        #expect(try String(contentsOfFile: tmp.file("n"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "\(1 << 20)")
    }
}
