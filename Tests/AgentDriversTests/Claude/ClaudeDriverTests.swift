import AgentDrivers
import Foundation
import MTestSupport
import Testing
import mdb

/// The Claude driver against the real Claude Code CLI (from the claude-agent-sdk wheel) talking to a
/// scripted Anthropic Messages API on loopback; tool permissions go through the real `mcli hook claude`
/// and a stand-in for the run's agent socket.
@Suite(.enabled(if: AgentPrograms.hasClaude, "Claude Code's CLI \(AgentPrograms.missing)"))
struct ClaudeDriverTests {
    /// A Claude run: the driver, the model API, the agent socket, a home of its own.
    struct ClaudeRun {
        let run: DriverRun
        let server: ScriptedServer
        let socket: AgentSocketStub
        let home: TempDir
    }

    func start(prompt: String, decide: (@Sendable (ApprovalRequest) -> ApprovalDecision?)? = nil) async throws -> ClaudeRun {
        let home = TempDir("m-claude-home")
        let server = try await ScriptedServer("anthropic_server.py", logDirectory: home.path)
        let workspace = TempDir("m-claude-ws")
        let host = RecordingHost(workspace: workspace.path, decide: decide)
        let socket = try AgentSocketStub(host: host)
        let driver = ClaudeDriver(hookCommand: Binaries.path("mcli") + " hook claude")
        let environment = Paths.environment([
            "HOME": home.path, "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "test-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "M_AGENT_SOCKET": socket.path,
        ])
        let agent = try AgentProcess(driver.arguments(for: [AgentPrograms.claude]), environment: environment, directory: workspace.path)
        let end = Task { await driver.run(host: host, agent: agent.stdio, prompt: prompt) }
        return ClaudeRun(run: DriverRun(host: host, agent: agent, workspace: workspace, end: end), server: server, socket: socket, home: home)
    }

    @Test func anApprovedBashCallRunsInTheWorkspaceAndInputIsANewTurn() async throws {
        let claude = try await start(prompt: "run echo hi > out.txt", decide: { _ in ApprovalDecision(status: .approved) })
        let host = claude.run.host
        try await host.wait(timeout: 90, "the first turn's end") { !$0.events("agent.turn_end").isEmpty }
        let asked = try #require(host.approvals.first?.request)
        #expect(asked.kind == "command" && asked.title == "echo hi > out.txt", "the approval shows the command")
        #expect(try String(contentsOfFile: claude.run.workspace.file("out.txt"), encoding: .utf8) == "hi\n")
        let call = try #require(host.events("tool.call").first)
        #expect(call["name"] == "Bash" && call["title"] == "echo hi > out.txt")
        #expect(call["parent_tool_use_id"] == nil, "only a subagent's lines name a parent")
        #expect(host.events("tool.result").first?["status"] == "completed")
        #expect(host.assistantText.contains("Running it."))
        #expect(host.assistantText.contains("tool said:"))
        let usage = try #require(host.events("usage").first)
        #expect(usage["input_tokens"]?.intValue ?? 0 > 0 && usage["output_tokens"]?.intValue ?? 0 > 0)
        #expect(usage["cost_usd"] != nil && usage["cost_usd"] != .double(0), "cost lands in the usage event")
        #expect(host.events("agent.turn_end").first?["stop_reason"] == "end_turn")

        host.send(.text("second question"))
        try await host.wait(timeout: 60, "the second turn") { $0.events("agent.turn_end").count == 2 }
        #expect(host.assistantText.contains("echo: second question"))
        host.send(.eof)
        #expect(try await claude.run.finish() == .finished)
        #expect(claude.run.agent.exitStatus == 0)
    }

    @Test func aRejectedCallDoesNotRunAndClaudeGetsTheNote() async throws {
        let claude = try await start(prompt: "run echo no > out.txt",
                                     decide: { _ in ApprovalDecision(status: .rejected, note: "not in this repo") })
        let host = claude.run.host
        try await host.wait(timeout: 90, "the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(host.approvals.count == 1)
        #expect(!FileManager.default.fileExists(atPath: claude.run.workspace.file("out.txt")))
        #expect(host.events("tool.result").first?["status"] == "failed")
        #expect(host.assistantText.contains("not in this repo"), "the note reaches Claude: \(host.assistantText)")
        host.send(.eof)
        #expect(try await claude.run.finish() == .finished)
    }

    @Test func aWriteIsADiffApproval() async throws {
        let claude = try await start(prompt: "edit made.txt", decide: { _ in ApprovalDecision(status: .approved) })
        let host = claude.run.host
        try await host.wait(timeout: 90, "the turn's end") { !$0.events("agent.turn_end").isEmpty }
        let asked = try #require(host.approvals.first?.request)
        #expect(asked.kind == "diff" && asked.body.contains("+edited"), "\(asked)")
        #expect(try String(contentsOfFile: claude.run.workspace.file("made.txt"), encoding: .utf8) == "edited\n")
        host.send(.eof)
        #expect(try await claude.run.finish() == .finished)
    }

    @Test func cancelInterruptsTheTurn() async throws {
        let claude = try await start(prompt: "run python3 -c 'import time; time.sleep(30)'", decide: { _ in ApprovalDecision(status: .approved) })
        let host = claude.run.host
        try await host.wait(timeout: 90, "the approved command") { !$0.approvals.isEmpty && !$0.events("tool.call").isEmpty }
        let started = Date()
        host.send(.cancel)
        try await host.wait(timeout: 20, "the interrupted turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(Date().timeIntervalSince(started) < 20, "the interrupt stops the turn, not the sleep's end")
        #expect(host.events("agent.turn_end").first?["stop_reason"] == "cancelled")
        #expect(try await claude.run.finish(timeout: 20) == .canceled)
    }

    @Test func claudeDyingMidTurnFailsTheRun() async throws {
        let claude = try await start(prompt: "run echo never > out.txt")
        let host = claude.run.host
        try await host.wait(timeout: 90, "the approval") { $0.approvals.count == 1 }
        claude.run.agent.kill()
        let end = try await claude.run.finish(timeout: 30)
        guard case .failed(let why) = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(why.contains("exited"))
        #expect(host.events("notice").contains { $0["level"] == "error" })
    }
}
