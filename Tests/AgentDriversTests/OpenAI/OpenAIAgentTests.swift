import AgentDrivers
import Foundation
import MTestSupport
import OpenAIAgentDriver
import Testing
import mdb

/// The built-in agent against a scripted OpenAI-compatible chat-completions server on loopback
/// (`Tests/Fixtures/chat_server.py`, a real HTTP server streaming tool calls).
@Suite struct OpenAIAgentTests {
    static let key = "sk-test-secret-4242"

    /// An agent run: the host, the workspace, the server, the conversation's end.
    struct AgentRun {
        let host: RecordingHost
        let workspace: TempDir
        let server: ScriptedServer
        let logs: TempDir
        let end: Task<DriverEnd, Never>

        func finish(timeout: Double = 60) async throws -> DriverEnd {
            let deadline = Date().addingTimeInterval(timeout)
            let box = LockedBox<DriverEnd?>(nil)
            let end = self.end
            let waiter = Task { box.set(await end.value) }
            while box.get() == nil {
                guard Date() < deadline else { waiter.cancel(); throw TestTimeout(what: "the agent's end", events: []) }
                try await Task.sleep(for: .milliseconds(10))
            }
            return box.get()!
        }
    }

    func start(prompt: String, policy: OpenAIApprovalPolicy = .onWrite, maxSteps: Int = 10,
               decide: (@Sendable (ApprovalRequest) -> ApprovalDecision?)? = nil) async throws -> AgentRun {
        let workspace = TempDir("m-openai-ws")
        let logs = TempDir("m-openai-log")
        let server = try await ScriptedServer("chat_server.py", logDirectory: logs.path)
        let host = RecordingHost(workspace: workspace.path, decide: decide)
        let config = OpenAIAgentConfig(baseURL: server.url + "/v1", model: "test-model", apiKey: Self.key, approvalPolicy: policy,
                                       maxSteps: maxSteps, firstRetryDelayMilliseconds: 10)
        let end = Task { await OpenAIAgent(config: config).run(host: host, prompt: prompt) }
        return AgentRun(host: host, workspace: workspace, server: server, logs: logs, end: end)
    }

    @Test func aMultiStepTaskAsksBeforeTheWriteUnderOnWriteAndRunsInTheWorkspace() async throws {
        let run = try await start(prompt: "task", decide: { _ in ApprovalDecision(status: .approved) })
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.approvals.map(\.request.kind) == ["diff", "command"], "on-write: the write and the command ask")
        #expect(run.host.approvals[0].request.body.contains("+hello from the model"))
        #expect(try String(contentsOfFile: run.workspace.file("notes.txt"), encoding: .utf8) == "hello from the model\n")
        #expect(run.host.events("tool.call").map { $0["title"] } == ["Write notes.txt", "cat notes.txt"])
        #expect(run.host.events("tool.result").map { $0["status"] } == ["completed", "completed"])
        #expect(run.host.assistantText.contains("done: hello from the model"), "the shell ran in the workspace")
        #expect(run.host.events("usage") == [["input_tokens": 150, "output_tokens": 30]], "three model calls")
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "end_turn"]])

        run.host.send(.text("and now?"))
        try await run.host.wait("the second turn") { $0.events("agent.turn_end").count == 2 }
        #expect(run.host.assistantText.contains("echo: and now?"), "input is a user turn")
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)

        let requests = run.server.requests()
        #expect(requests.allSatisfy { (($0["headers"] as? [String: String])?["Authorization"]) == "Bearer \(Self.key)" })
        #expect(!run.host.events.contains { $0.data.text.contains(Self.key) }, "the key is never in an event")
    }

    @Test func aRejectedWriteIsNotDoneAndTheModelHearsTheNote() async throws {
        let run = try await start(prompt: "task", decide: { request in
            request.kind == "diff" ? ApprovalDecision(status: .rejected, note: "not that file") : ApprovalDecision(status: .approved)
        })
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(!FileManager.default.fileExists(atPath: run.workspace.file("notes.txt")))
        #expect(run.host.events("tool.result").first?["status"] == "rejected")
        let sent = run.server.requests().last?["body"] as? [String: Any]
        let toolMessages = (sent?["messages"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "tool" }
        #expect((toolMessages.first?["content"] as? String)?.contains("not that file") == true)
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func neverAsksUnderNeverAndPrefixesLetCommandsThrough() async throws {
        let run = try await start(prompt: "task", policy: .never)
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.approvals.isEmpty)
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)

        let prefixed = try await start(prompt: "task", policy: .allowedPrefixes(["cat"]), decide: { _ in ApprovalDecision(status: .approved) })
        try await prefixed.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(prefixed.host.approvals.map(\.request.kind) == ["diff"], "cat is allowed, the write still asks")
        prefixed.host.send(.eof)
        #expect(try await prefixed.finish() == .finished)
    }

    @Test func a429IsRetried() async throws {
        let run = try await start(prompt: "busy now")
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.assistantText == "echo: busy")
        #expect(run.host.events("notice").contains { $0["text"]?.stringValue?.contains("429") == true })
        #expect(run.server.requests().count == 2)
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func itStopsAtMaxSteps() async throws {
        let run = try await start(prompt: "loop", maxSteps: 3)
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "max_steps"]])
        #expect(run.server.requests().count == 3)
        #expect(run.host.events("tool.result").allSatisfy { $0["status"] == "failed" }, "missing.txt does not exist")
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func askUserIsAQuestionWhoseNoteIsTheAnswer() async throws {
        let run = try await start(prompt: "ask", decide: { _ in ApprovalDecision(status: .approved, note: "blue") })
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.approvals.first?.request.kind == "question")
        #expect(run.host.assistantText.contains("you said: the person answered: blue"))
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func filesOutsideTheWorkspaceAreRefused() async throws {
        let run = try await start(prompt: "escape", policy: .never)
        try await run.host.wait("the turn's end") { !$0.events("agent.turn_end").isEmpty }
        #expect(run.host.assistantText.contains("result:") && run.host.assistantText.contains("'..'"))
        #expect(run.host.events("notice").contains { $0["level"] == "warning" })
        run.host.send(.eof)
        #expect(try await run.finish() == .finished)
    }

    @Test func cancelWhileAnApprovalWaitsEndsTheRun() async throws {
        let run = try await start(prompt: "task")
        try await run.host.wait("the approval") { $0.approvals.count == 1 }
        run.host.send(.cancel)
        #expect(try await run.finish() == .canceled)
        #expect(run.host.approvals[0].decision?.status == .canceled)
        #expect(run.host.events("agent.turn_end") == [["stop_reason": "cancelled"]])
    }

    @Test func aRefusingAPIFailsTheRunWithoutTheKey() async throws {
        let host = RecordingHost(workspace: TempDir("m-openai-ws").path)
        // Nothing listens on port 9 of loopback: every attempt fails to connect.
        let config = OpenAIAgentConfig(baseURL: "http://127.0.0.1:9/v1", model: "m", apiKey: Self.key, maxAttempts: 2,
                                       firstRetryDelayMilliseconds: 1, responseStartTimeoutSeconds: 2)
        let end = await OpenAIAgent(config: config).run(host: host, prompt: "hello")
        guard case .failed(let why) = end else { Issue.record("expected failed, got \(end)"); return }
        #expect(why.contains("2 times"))
        #expect(host.events("notice").contains { $0["text"]?.stringValue?.contains("retrying") == true })
        #expect(!host.events.contains { $0.data.text.contains(Self.key) })
    }
}
