import AgentDrivers
import Foundation
import MTestSupport
import Testing
import mdb

/// The Codex driver against the real `codex app-server` (from the openai-codex-cli-bin wheel) whose
/// model provider is a scripted Responses API on loopback.
@Suite(.enabled(if: AgentPrograms.hasCodex, "Codex's CLI \(AgentPrograms.missing)"))
struct CodexDriverTests {
    /// A Codex run: the driver, the model API, a CODEX_HOME of its own.
    struct CodexRun {
        let run: DriverRun
        let server: ScriptedServer
        let home: TempDir
    }

    func start(prompt: String, decide: (@Sendable (ApprovalRequest) -> ApprovalDecision?)? = nil) async throws -> CodexRun {
        let home = TempDir("m-codex-home")
        let server = try await ScriptedServer("responses_server.py", logDirectory: home.path)
        // A model name Codex knows (so it offers apply_patch), served by the local provider.
        try """
        model = "gpt-5.5"
        model_provider = "local"

        [model_providers.local]
        name = "local"
        base_url = "\(server.url)/v1"
        wire_api = "responses"
        env_key = "M_TEST_MODEL_KEY"
        """.write(toFile: home.file("config.toml"), atomically: true, encoding: .utf8)
        let run = try DriverRun.start(CodexDriver(), [AgentPrograms.codex], prompt: prompt,
                                      environment: ["CODEX_HOME": home.path, "M_TEST_MODEL_KEY": "test-key"], decide: decide)
        return CodexRun(run: run, server: server, home: home)
    }

    @Test func anApprovedCommandRunsAndAFollowUpIsANewTurn() async throws {
        let codex = try await start(prompt: "run echo hi > out.txt", decide: { _ in ApprovalDecision(status: .approved) })
        let host = codex.run.host
        try await host.wait(timeout: 90, "the first turn's end") { !$0.events("agent.turn_end").isEmpty }
        let asked = try #require(host.approvals.first?.request)
        #expect(asked.kind == "command" && asked.title.contains("echo hi > out.txt"), "\(asked)")
        #expect(asked.body.contains("the test asked to run it"), "the model's justification is shown")
        #expect(try String(contentsOfFile: codex.run.workspace.file("out.txt"), encoding: .utf8) == "hi\n")
        #expect(host.events("tool.call").first?["kind"] == "execute")
        #expect(host.events("tool.result").first?["status"] == "completed")
        #expect(host.assistantText.contains("tool said:"))
        let usage = try #require(host.events("usage").first)
        #expect(usage["input_tokens"] == 400 && usage["output_tokens"] == 80, "two model calls in the turn")
        #expect(host.events("agent.turn_end").first?["stop_reason"] == "end_turn")

        host.send(.text("hello again"))
        try await host.wait(timeout: 60, "the second turn") { $0.events("agent.turn_end").count == 2 }
        #expect(host.assistantText.contains("echo: hello again"))
        #expect(host.events("usage").last?["input_tokens"] == 200, "the second turn's own tokens")
        host.send(.eof)
        #expect(try await codex.run.finish() == .finished)
    }

    @Test func aRejectedCommandDoesNotRun() async throws {
        let codex = try await start(prompt: "run echo no > out.txt", decide: { _ in ApprovalDecision(status: .rejected, note: "no") })
        let host = codex.run.host
        try await host.wait(timeout: 90, "the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(host.approvals.count == 1)
        #expect(!FileManager.default.fileExists(atPath: codex.run.workspace.file("out.txt")))
        #expect(host.events("tool.result").first?["status"] == "rejected")
        host.send(.eof)
        #expect(try await codex.run.finish() == .finished)
    }

    @Test func fileChangesAreDiffApprovalsApprovedThenRejected() async throws {
        let codex = try await start(prompt: "patch made.txt")
        let host = codex.run.host
        try await host.wait(timeout: 90, "the file change approval") { $0.approvals.count == 1 }
        let asked = host.approvals[0].request
        #expect(asked.kind == "diff" && asked.body.contains("+patched") && asked.title.contains("made.txt"), "\(asked)")
        host.resolve(0, ApprovalDecision(status: .approved))
        try await host.wait(timeout: 60, "the first turn") { $0.events("agent.turn_end").count == 1 }
        #expect(try String(contentsOfFile: codex.run.workspace.file("made.txt"), encoding: .utf8) == "patched\n")

        host.send(.text("patch other.txt"))
        try await host.wait(timeout: 60, "the second approval") { $0.approvals.count == 2 }
        host.resolve(1, ApprovalDecision(status: .rejected, note: "not that one"))
        try await host.wait(timeout: 60, "the second turn") { $0.events("agent.turn_end").count == 2 }
        #expect(!FileManager.default.fileExists(atPath: codex.run.workspace.file("other.txt")))
        let results = host.events("tool.result").filter { $0["content"] != nil }
        #expect(results.map { $0["status"] } == ["completed", "rejected"])
        host.send(.eof)
        #expect(try await codex.run.finish() == .finished)
    }

    @Test func cancelWhileAnApprovalWaitsInterruptsTheTurn() async throws {
        let codex = try await start(prompt: "run echo late > out.txt")
        let host = codex.run.host
        try await host.wait(timeout: 90, "the approval") { $0.approvals.count == 1 }
        host.send(.cancel)
        #expect(try await codex.run.finish(timeout: 30) == .canceled)
        #expect(host.approvals[0].decision?.status == .canceled)
        #expect(!FileManager.default.fileExists(atPath: codex.run.workspace.file("out.txt")))
        #expect(host.events("agent.turn_end").last?["stop_reason"] == "cancelled")
    }

    @Test func codexDyingMidTurnFailsTheRun() async throws {
        let codex = try await start(prompt: "run echo never > out.txt")
        try await codex.run.host.wait(timeout: 90, "the approval") { $0.approvals.count == 1 }
        codex.run.agent.kill()
        let end = try await codex.run.finish(timeout: 30)
        guard case .failed(let why) = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(why.contains("exited"))
    }
}
