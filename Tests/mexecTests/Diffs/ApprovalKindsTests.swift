import Foundation
import MTestSupport
import Testing
import mdb

/// `mcli ask --kind command|question` and `mcli hook claude`, end to end through a real executor.
@Suite struct ApprovalKindsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    @Test func aQuestionReturnsTheAnswerACommandIsShownVerbatimAndExpiryTellsTheAgent() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("""
            mcli ask --kind question "Which branch?"; echo "q=$?"
            mcli ask --kind command "rm -rf build && make"; echo "c=$?"
            mcli ask --timeout 1 "anyone?" 2>&1; echo "e=$?"
            """)
        let question = try #require(try h.pendingApproval(id), "\(h.logs)")
        #expect(question.kind == "question" && question.title == "Which branch?")
        #expect(try h.decide("approve", question.id, note: "release-2.1").status == 0)
        let command = try #require(try h.pendingApproval(id, after: question.id))
        #expect(command.kind == "command" && command.body == "rm -rf build && make")
        #expect(try h.decide("reject", command.id).status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("release-2.1\nq=0\nc=1\n"), "\(out)")
        #expect(out.contains("expired") && out.contains("e=1"), "\(out)")
    }

    @Test func theRunsSpecSetsTheDefaultWaitAndCanApproveOnExpiry() throws {
        let h = try MexecHarness()
        try h.start()
        // Nobody answers: the run's default (1 s) expires the ask, and its spec makes that a yes.
        let run = try h.db.createRun(NewRun(title: "lenient", spec: RunSpec(
            command: #"mcli ask "deploy?"; echo "a=$?""#, approvals: ApprovalPolicy(timeoutSeconds: 1, onExpiry: "approve"))))
        #expect(try h.finished(run.id).status == .succeeded, "\(h.logs)")
        let out = try h.text(run.id)
        #expect(out.contains("a=0"), "\(out)")
        let resolved = try #require(try h.events(run.id).first { $0.type == EventType.approvalResolved })
        #expect(resolved.dataValue["decision"]?.stringValue == "approved" && resolved.dataValue["by"]?.stringValue == "system")
    }

    @Test func aDiffApprovalWithoutAChangeBehindItIsRefused() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("""
            mcli ask --kind diff "trust me, it is fine" 2>&1; echo "d=$?"
            """)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("needs the change itself") && out.contains("d=2"), "\(out)")
        #expect(try h.db.approvals(status: nil, runId: id).isEmpty, "no approval was created")
    }

    @Test func claudeHookTurnsPreToolUseIntoAnApprovalAndPrintsTheDecision() throws {
        let h = try MexecHarness()
        try h.start()
        // The payloads come with the workspace: a confined agent sees nothing outside it.
        let payloads = try h.fixtureRepo("payloads", files: [
            "bash.json": try String(contentsOfFile: Self.fixtures + "/claude-pretooluse-bash.json", encoding: .utf8),
            "edit.json": try String(contentsOfFile: Self.fixtures + "/claude-pretooluse-edit.json", encoding: .utf8),
        ])
        let id = try h.create(#"""
            mcli hook claude < "$BASH_PAYLOAD"; echo "bash=$?"
            mcli hook claude < "$EDIT_PAYLOAD"; echo "edit=$?"
            """#, repo: payloads, env: ["BASH_PAYLOAD": "bash.json", "EDIT_PAYLOAD": "edit.json"])
        let command = try #require(try h.pendingApproval(id), "\(h.logs)")
        #expect(command.kind == "command" && command.title == "rm -rf build && make test")
        #expect(command.body == "Clean the build folder and run the tests")
        #expect(try h.decide("approve", command.id, note: "fine").status == 0)
        let change = try #require(try h.pendingApproval(id, after: command.id))
        #expect(change.kind == "diff" && change.title == "Edit src/greeting.py")
        #expect(change.body == """
            --- a/src/greeting.py
            +++ b/src/greeting.py
            @@ -1,1 +1,2 @@
            -print("hello")
            +print("hello, world")
            +print("bye")

            """)
        #expect(try h.decide("reject", change.id, note: "keep it short").status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let lines = try h.text(id).split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        let allow = try JSONValue.parse(lines[0])["hookSpecificOutput"]
        #expect(allow?["hookEventName"]?.stringValue == "PreToolUse")
        #expect(allow?["permissionDecision"]?.stringValue == "allow")
        #expect(allow?["permissionDecisionReason"]?.stringValue?.hasSuffix(": fine") == true)
        #expect(lines[1] == "bash=0")
        let deny = try JSONValue.parse(lines[2])["hookSpecificOutput"]
        #expect(deny?["permissionDecision"]?.stringValue == "deny")
        #expect(deny?["permissionDecisionReason"]?.stringValue?.contains("rejected in M by cli:") == true)
        #expect(deny?["permissionDecisionReason"]?.stringValue?.hasSuffix(": keep it short") == true)
        #expect(lines[3] == "edit=0")
    }

    @Test func claudeHookOutsideARunLetsClaudeAsk() throws {
        let payload = try String(contentsOfFile: Self.fixtures + "/claude-pretooluse-bash.json", encoding: .utf8)
        let result = try Exec.run("mcli", ["hook", "claude"], env: ["M_AGENT_SOCKET": ""], stdin: payload)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONValue.parse(result.stdout)["hookSpecificOutput"]?["permissionDecision"]?.stringValue == "ask")
        let bad = try Exec.run("mcli", ["hook", "claude"], env: ["M_AGENT_SOCKET": ""], stdin: "not json")
        #expect(bad.status == 2 && bad.stderr.contains("not a JSON object"))
    }
}
