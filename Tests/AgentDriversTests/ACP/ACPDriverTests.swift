import AgentDrivers
import Foundation
import MTestSupport
import Testing
import mdb

/// The ACP driver against a hand-written ACP agent (`Tests/Fixtures/acp_agent.py`, a real process
/// speaking JSON-RPC on its stdio): events, approvals, turns, cancel, a crash, bad lines.
@Suite struct ACPDriverTests {
    let agent = ["python3", Paths.fixture("acp_agent.py")]

    @Test func aTurnBecomesMessagesPlanUsageAndATurnEnd() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "hello there")
        try await run.host.wait("the first turn's end") { !$0.events("agent.turn_end").isEmpty }
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
        let host = run.host
        #expect(host.events("agent.message").contains { $0["role"] == "assistant" && $0["text"] == "echo: hello there" },
                "chunks of one message are one event")
        #expect(host.events("agent.message").contains { $0["role"] == "thought" && $0["text"] == "thinking about hello" })
        let plan = try #require(host.events("plan").first)
        #expect(plan["entries"] == [["content": "understand: hello there", "status": "completed", "priority": "high"],
                                    ["content": "answer", "status": "in_progress", "priority": "medium"]])
        #expect(host.events("usage").contains { $0["context_used"] == 1000 && $0["total_cost_usd"] == .double(0.01) })
        #expect(host.events("usage").contains { $0["input_tokens"] == 10 && $0["output_tokens"] == 5 })
        #expect(host.events("agent.turn_end") == [["stop_reason": "end_turn"]])
        #expect(run.agent.exitStatus == 0, "the agent exits at its stdin's end")
    }

    @Test func approvingAWriteShowsTheDiffAndWritesTheFileThroughTheClient() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "write notes.txt hello world")
        try await run.host.wait("the approval") { $0.approvals.count == 1 }
        let asked = run.host.approvals[0].request
        #expect(asked.kind == "diff")
        #expect(asked.title == "Write notes.txt", "the title comes from the earlier tool_call")
        #expect(asked.body.contains("+hello world"), "the approval shows the change")
        #expect(asked.options.map(\.kind) == ["allow_once", "allow_always", "reject_once"])
        #expect(asked.payload["tool_call_id"] == "call-1")
        run.host.resolve(0, ApprovalDecision(status: .approved))
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(try String(contentsOfFile: run.workspace.file("notes.txt"), encoding: .utf8) == "hello world\n")
        let call = try #require(run.host.events("tool.call").first)
        #expect(call["id"] == "call-1" && call["kind"] == "edit" && call["title"] == "Write notes.txt")
        let result = try #require(run.host.events("tool.result").last)
        #expect(result["status"] == "completed")
        #expect(result["content"]?.text.contains("+hello world") == true, "the diff content carries a patch")
        #expect(run.host.assistantText.contains("I wrote notes.txt."))
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func rejectingPassesTheNoteAndWritesNothing() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "write notes.txt nope",
                                      decide: { _ in ApprovalDecision(status: .rejected, note: "not today") })
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(!FileManager.default.fileExists(atPath: run.workspace.file("notes.txt")))
        #expect(run.host.assistantText.contains("I did not write notes.txt (not today)."), "reject_once, with the note in _meta")
        #expect(run.host.events("tool.result").last?["status"] == "failed")
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func alwaysPicksAllowAlwaysAndTheAgentStopsAsking() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "twice again.txt",
                                      decide: { _ in ApprovalDecision(status: .approved, always: true) })
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.approvals.count == 1, "allow_always: the second write is not asked")
        #expect(try String(contentsOfFile: run.workspace.file("again.txt"), encoding: .utf8) == "two\n")
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func inputsAreTurnsAndInputTypedDuringATurnWaitsForTheNext() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "write a.txt first")
        try await run.host.wait("the approval") { $0.approvals.count == 1 }
        run.host.send(.text("second"))
        run.host.send(.text("third"))
        try await run.host.wait("the queued notices") { $0.events("notice").count >= 2 }
        #expect(run.host.events("agent.turn_end").isEmpty, "nothing is sent while the turn runs")
        run.host.resolve(0, ApprovalDecision(status: .approved))
        try await run.host.wait("three turns") { $0.events("agent.turn_end").count == 3 }
        let text = run.host.assistantText
        let second = try #require(text.range(of: "echo: second")), third = try #require(text.range(of: "echo: third"))
        #expect(second.lowerBound < third.lowerBound)
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func cancelStopsTheTurnWithSessionCancel() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "slow")
        try await run.host.wait("the turn's first words") { $0.assistantText.contains("working") || !$0.events("agent.message").isEmpty }
        run.host.send(.cancel)
        #expect(try await run.finish() == .canceled)
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "cancelled"]])
    }

    @Test func cancelAnswersAPendingPermissionCancelled() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "ask")
        try await run.host.wait("the approval") { $0.approvals.count == 1 }
        let asked = run.host.approvals[0].request
        #expect(asked.kind == "command" && asked.body == "rm -rf /tmp/nothing" && asked.title == "Delete everything")
        run.host.send(.cancel)
        #expect(try await run.finish() == .canceled)
        #expect(run.host.approvals[0].decision?.status == .canceled)
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "cancelled"]], "the agent got `cancelled` and ended its turn")
    }

    @Test func anAgentThatCrashesMidTurnFailsTheRun() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "crash")
        let end = try await run.finish()
        guard case .failed(let why) = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(why.contains("exited"))
        #expect(run.host.assistantText.contains("about to crash"), "what it said before is kept")
        #expect(run.host.events("notice").contains { $0["level"] == "error" })
        #expect(run.agent.stderr.contains("crashing on purpose"))
    }

    @Test func anAgentKilledWhileAPermissionWaitsFailsTheRunAndCancelsTheApproval() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "ask")
        try await run.host.wait("the approval") { $0.approvals.count == 1 }
        run.agent.kill()
        let end = try await run.finish()
        guard case .failed = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(run.host.approvals[0].decision?.status == .canceled, "the approval does not outlive its agent")
    }

    @Test func cancellingTheDriversTaskEndsItWhileTheAgentStillRuns() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "slow")
        try await run.host.wait("the turn's first words") { !$0.events("plan").isEmpty }
        run.end.cancel()
        let end = await run.end.value
        guard case .failed = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(run.agent.exitStatus == nil, "the driver does not kill; the host does")
        run.agent.kill()
    }

    @Test func aLineThatIsNotJSONIsKeptAsOutputWithANotice() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "garbage")
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.events("output") == [["stream": "stdout", "text": "this is not json\n"]])
        #expect(run.host.events("notice").contains { $0["text"]?.stringValue?.contains("not ACP") == true })
        #expect(run.host.assistantText.contains("after garbage"), "the conversation goes on")
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func aTerminalRunsInTheWorkspace() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "run pwd")
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
        let real = try WorkspaceConfinement(workspace: run.workspace.path).realWorkspace
        #expect(run.host.assistantText.contains("exit 0 output \(real)"), "\(run.host.assistantText)")
    }

    @Test func anAgentThatDoesNotExitAfterEOFIsLeftAfterTheGraceWithANotice() async throws {
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "hello", environment: ["ACP_AGENT_LINGER": "1"])
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        let started = Date()
        run.host.send(.eof)
        let end = await run.end.value
        #expect(end == .finished)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(run.host.events("notice").contains { $0["text"]?.stringValue?.contains("did not exit") == true })
        #expect(run.agent.exitStatus == nil, "the host, not the driver, stops it")
        run.agent.kill()
    }

    @Test func terminalsLeftRunningAreKilledWhenTheConversationEnds() async throws {
        // A unique duration is the process's mark in /proc.
        let marker = "3000.\(Int.random(in: 100_000...999_999))"
        let run = try DriverRun.start(ACPDriver(), agent, prompt: "start sleep \(marker)")
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.assistantText.contains("started term-1"))
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
        let gone = await eventuallyGone(marker)
        #expect(gone, "the terminal's process is killed")
    }

    private func eventuallyGone(_ marker: String) async -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let running = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.contains { pid in
                guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                return String(decoding: cmdline, as: UTF8.self).contains(marker)
            } ?? false
            if !running { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
