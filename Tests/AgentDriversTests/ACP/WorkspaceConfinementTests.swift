import AgentDrivers
import Foundation
import MTestSupport
import Testing

/// The ACP client's files and terminals stay inside the run's workspace: every way out is refused.
@Suite struct WorkspaceConfinementTests {
    /// A workspace `ws` beside a sibling `ws-other` and a secret outside both, with symlinks out.
    final class Layout {
        let root = TempDir("m-confine")
        var workspace: String { root.file("ws") }
        init() throws {
            let fm = FileManager.default
            try fm.createDirectory(atPath: root.file("ws/sub"), withIntermediateDirectories: true)
            try fm.createDirectory(atPath: root.file("ws-other"), withIntermediateDirectories: true)
            try "secret\n".write(toFile: root.file("secret.txt"), atomically: true, encoding: .utf8)
            try "other\n".write(toFile: root.file("ws-other/file.txt"), atomically: true, encoding: .utf8)
            try "inside\n".write(toFile: root.file("ws/sub/in.txt"), atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: root.file("ws/out-file"), withDestinationPath: root.file("secret.txt"))
            try fm.createSymbolicLink(atPath: root.file("ws/out-dir"), withDestinationPath: root.path)
            try fm.createSymbolicLink(atPath: root.file("ws/dangling"), withDestinationPath: root.file("new-outside.txt"))
            try fm.createSymbolicLink(atPath: root.file("ws/in-link"), withDestinationPath: "sub")
        }
    }

    private func refused(_ confinement: WorkspaceConfinement, _ path: String) -> Bool {
        do { _ = try confinement.resolve(path); return false } catch let error as DriverError {
            if case .outsideWorkspace = error { return true }
            return false
        } catch { return false }
    }

    @Test func everyEscapeIsRefused() throws {
        let layout = try Layout()
        let confinement = try WorkspaceConfinement(workspace: layout.workspace)
        let ws = layout.workspace
        for path in ["../secret.txt", "\(ws)/../secret.txt", "sub/../../secret.txt", "\(ws)/sub/..",
                     layout.root.file("secret.txt"), "/etc/passwd", "/",
                     "\(ws)-other/file.txt", layout.root.file("ws-other"),
                     "out-file", "\(ws)/out-dir/secret.txt", "out-dir", ""] {
            #expect(refused(confinement, path), "\(path) must be refused")
        }
    }

    @Test func pathsInsideResolve() throws {
        let layout = try Layout()
        let confinement = try WorkspaceConfinement(workspace: layout.workspace)
        let real = confinement.realWorkspace
        #expect(try confinement.resolve("sub/in.txt") == real + "/sub/in.txt")
        #expect(try confinement.resolve(layout.workspace + "/./sub//in.txt") == real + "/sub/in.txt")
        #expect(try confinement.resolve("in-link/in.txt") == real + "/sub/in.txt", "a symlink that stays inside is fine")
        #expect(try confinement.resolve("new/dir/file.txt") == real + "/new/dir/file.txt", "a file to be created")
        #expect(try confinement.read("sub/in.txt") == "inside\n")
    }

    @Test func writesNeverLeave() throws {
        let layout = try Layout()
        let confinement = try WorkspaceConfinement(workspace: layout.workspace)
        #expect(throws: DriverError.self) { try confinement.write("out-file", content: "x") }
        #expect(throws: DriverError.self) { try confinement.write("dangling", content: "x") }
        #expect(throws: DriverError.self) { try confinement.write("out-dir/new.txt", content: "x") }
        #expect(throws: DriverError.self) { try confinement.write("../ws-other/file.txt", content: "x") }
        #expect(try String(contentsOfFile: layout.root.file("secret.txt"), encoding: .utf8) == "secret\n")
        #expect(!FileManager.default.fileExists(atPath: layout.root.file("new-outside.txt")), "a dangling link out is not followed")
        #expect(!FileManager.default.fileExists(atPath: layout.root.file("new.txt")))
        try confinement.write("made/here.txt", content: "ok\n")
        #expect(try String(contentsOfFile: layout.root.file("ws/made/here.txt"), encoding: .utf8) == "ok\n")
    }

    @Test func theAgentCannotReadWriteOrRunOutsideThroughTheProtocol() async throws {
        let layout = try Layout()
        let agent = ["python3", Paths.fixture("acp_agent.py")]
        let workspace = TempDir("m-driver")
        try FileManager.default.createSymbolicLink(atPath: workspace.file("link"), withDestinationPath: layout.root.file("secret.txt"))
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "read \(layout.root.file("secret.txt"))", workspace: workspace)
        try await run.host.wait("the first turn") { $0.events("agent.turn_end").count == 1 }
        for prompt in ["read ../x", "read link", "runin \(layout.root.file("ws-other")) pwd", "runin .. pwd", "write ../escape.txt x"] {
            run.host.send(.text(prompt))
        }
        try await run.host.wait("four turns") { $0.events("agent.turn_end").count == 5 && $0.approvals.count == 1 }
        run.host.resolve(0, .init(status: .approved))
        try await run.host.wait("six turns") { $0.events("agent.turn_end").count == 6 }
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
        let text = run.host.assistantText
        #expect(!text.contains("read: secret"), "\(text)")
        #expect(text.components(separatedBy: "read refused").count == 4)
        #expect(text.components(separatedBy: "terminal refused").count == 3, "a terminal's cwd outside (a sibling, ..) is refused")
        #expect(text.contains("write failed"))
        #expect(!FileManager.default.fileExists(atPath: (workspace.path as NSString).deletingLastPathComponent + "/escape.txt"))
        #expect(run.host.events("notice").filter { $0["level"] == "warning" }.count >= 4, "each refusal is a notice")
        _ = layout
    }
}
