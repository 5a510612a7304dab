import AgentDrivers
import Foundation
import MTestSupport
import Testing
import mdb

/// The ACP driver against an agent written on the official ACP Python SDK (agent-client-protocol,
/// fetched by scripts/agent-clis into ~/.cache/m-agents/acp-sdk): the shapes the SDK validates.
@Suite(.enabled(if: AgentPrograms.hasACPSDK, "the official ACP SDK \(AgentPrograms.missing)"))
struct ACPSDKAgentTests {
    let agent = ["python3", Paths.fixture("acp_sdk_agent.py")]
    let environment = ["PYTHONPATH": AgentPrograms.acpSDK]

    @Test func approveWritesRejectDoesNotAndFollowUpsAreTurns() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "write a.txt alpha", environment: environment)
        try await run.host.wait("the first approval") { $0.approvals.count == 1 }
        let asked = run.host.approvals[0].request
        #expect(asked.kind == "diff" && asked.title == "Write a.txt" && asked.body.contains("+alpha"))
        run.host.resolve(0, ApprovalDecision(status: .approved))
        try await run.host.wait("the first turn") { $0.events("agent.turn_end").count == 1 }
        #expect(try String(contentsOfFile: run.workspace.file("a.txt"), encoding: .utf8) == "alpha\n")

        run.host.send(.text("write b.txt beta"))
        try await run.host.wait("the second approval") { $0.approvals.count == 2 }
        run.host.resolve(1, ApprovalDecision(status: .rejected, note: "no b"))
        try await run.host.wait("the second turn") { $0.events("agent.turn_end").count == 2 }
        #expect(!FileManager.default.fileExists(atPath: run.workspace.file("b.txt")))

        run.host.send(.text("how are you"))
        try await run.host.wait("the third turn") { $0.events("agent.turn_end").count == 3 }
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)

        let host = run.host
        #expect(host.assistantText.contains("wrote a.txt") && host.assistantText.contains("did not write b.txt"))
        #expect(host.assistantText.contains("sdk echo: how are you"))
        #expect(host.events("tool.call").count == 2)
        #expect(host.events("tool.result").map { $0["status"] } == ["completed", "failed"])
        #expect(host.events("plan").count == 3)
        #expect(host.events("usage").contains { $0["input_tokens"] == 21 && $0["output_tokens"] == 9 })
        #expect(host.events("agent.turn_end").allSatisfy { $0["stop_reason"] == "end_turn" })
    }

    @Test func cancelEndsTheTurnAndTheRun() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "slow", environment: environment)
        try await run.host.wait("the turn's first words") { $0.assistantText.contains("working") || !$0.events("plan").isEmpty }
        run.host.send(.cancel)
        #expect(try await run.finish() == .canceled)
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "cancelled"]])
    }

    @Test func cancelWhileAPermissionWaitsAnswersItCancelled() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "write c.txt gamma", environment: environment)
        try await run.host.wait("the approval") { $0.approvals.count == 1 }
        run.host.send(.cancel)
        #expect(try await run.finish() == .canceled)
        #expect(run.host.approvals[0].decision?.status == .canceled)
        #expect(!FileManager.default.fileExists(atPath: run.workspace.file("c.txt")))
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "cancelled"]])
    }

    @Test func aCrashMidTurnFailsTheRun() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "crash", environment: environment)
        let end = try await run.finish()
        guard case .failed = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(run.agent.stderr.contains("crashing on purpose"))
    }
}
