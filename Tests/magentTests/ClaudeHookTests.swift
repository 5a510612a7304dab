import Foundation
import Testing
@testable import magent

/// The pure translation behind `mcli hook claude`: payload → approval request, decision → output.
@Suite struct ClaudeHookTests {
    private func payload(_ tool: String, _ input: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: [
            "session_id": "s", "hook_event_name": "PreToolUse", "cwd": "/work/app", "tool_name": tool, "tool_input": input,
        ])
    }

    private func decision(_ data: Data) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return object?["hookSpecificOutput"] as? [String: String] ?? [:]
    }

    @Test func writeShowsTheNewFileAsAnAllPlusDiff() throws {
        let request = try ClaudeHook.request(fromPayload: payload("Write", ["file_path": "/work/app/a/b.txt", "content": "x\ny\n"]))
        #expect(request.kind == "diff" && request.text == "Write a/b.txt")
        #expect(request.body == "--- /dev/null\n+++ b/a/b.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n")
    }

    @Test func multiEditShowsEveryReplacement() throws {
        let request = try ClaudeHook.request(fromPayload: payload("MultiEdit", ["file_path": "/elsewhere/f.py", "edits": [
            ["old_string": "a", "new_string": "b"], ["old_string": "c", "new_string": ""],
        ]]))
        #expect(request.text == "MultiEdit /elsewhere/f.py", "a path outside cwd stays absolute")
        #expect(request.body == "--- /elsewhere/f.py\n+++ /elsewhere/f.py\n@@ -1,1 +1,1 @@\n-a\n+b\n"
                + "--- /elsewhere/f.py\n+++ /elsewhere/f.py\n@@ -1,1 +0,0 @@\n-c\n")
    }

    @Test func anotherToolIsAnAskWithItsInputAsJSON() throws {
        let request = try ClaudeHook.request(fromPayload: payload("WebFetch", ["url": "https://example.org/x", "prompt": "p"]))
        #expect(request.kind == "ask" && request.text == "Allow WebFetch?")
        #expect(request.body == #"{"prompt":"p","url":"https://example.org/x"}"#)
    }

    @Test func payloadsWithoutWhatTheToolNeedsAreRefused() throws {
        #expect(throws: ClaudeHookError.self) { try ClaudeHook.request(fromPayload: Data("[]".utf8)) }
        #expect(throws: ClaudeHookError.self) { try ClaudeHook.request(fromPayload: self.payload("Bash", [:])) }
        #expect(throws: ClaudeHookError.self) { try ClaudeHook.request(fromPayload: self.payload("Edit", ["old_string": "a"])) }
    }

    @Test func onlyAnApprovalAllows() throws {
        let allow = try decision(ClaudeHook.output(for: AgentResponse(ok: true, decision: "approved", note: "ok", by: "web:phone")))
        #expect(allow == ["hookEventName": "PreToolUse", "permissionDecision": "allow",
                          "permissionDecisionReason": "approved in M by web:phone: ok"])
        for word in ["rejected", "expired", "canceled"] {
            #expect(try decision(ClaudeHook.output(for: AgentResponse(ok: true, decision: word)))["permissionDecision"] == "deny")
        }
        #expect(try decision(ClaudeHook.outsideRun())["permissionDecision"] == "ask")
    }
}
