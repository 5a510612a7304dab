import Foundation
import MTestSupport
import Testing
import mdb

@Suite struct RunControlTests {
    @Test func readInTheAgentReceivesInjectedInput() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create(#"echo ready; read line; echo "got:$line""#)
        #expect(try h.waitForOutput(id, containing: "ready"), "\(h.logs)")
        let queued = try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "hello there"])
        #expect(queued.status == 0, "\(queued.stderr)")
        let run = try h.finished(id)
        #expect(run.status == .succeeded)
        #expect(try h.text(id).contains("got:hello there"))
        let input = try h.events(id).first { $0.type == EventType.input }
        #expect(input?.dataValue["text"]?.stringValue == "hello there")
        // Finished: more input is refused at the source, not dropped.
        let late = try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "late"])
        #expect(late.status == 2 && late.stderr.contains("already finished"))
    }

    @Test func inputWithEofClosesTheAgentsStdin() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("echo ready; cat; echo done")
        #expect(try h.waitForOutput(id, containing: "ready"), "\(h.logs)")
        try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "one"])
        try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "two", "--no-newline", "--eof"])
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try h.text(id) == "ready\none\ntwodone\n")
    }

    @Test func cancelEndsACommandThatIgnoresTermWithItsWholeGroup() throws {
        let h = try MexecHarness(args: ["--cancel-grace-ms", "500"])
        try h.start()
        // Ignored signals are inherited: the shell and both sleeps shrug off INT and TERM.
        let id = try h.create("trap '' INT TERM; sleep 1000 & sleep 1000 & echo ready; wait; wait")
        #expect(try h.waitForOutput(id, containing: "ready"), "\(h.logs)")
        let pgid = try #require(try h.db.processes(runId: id).agentPgid)
        #expect(Proc.liveMembers(ofGroup: pgid).count >= 3)
        let started = Date()
        try Exec.run("mcli", ["cancel", "--db", h.tmp.dbPath, String(id)])
        let run = try h.finished(id, timeout: 20)
        #expect(run.status == .canceled)
        #expect(Date().timeIntervalSince(started) < 10)
        let finished = try h.events(id).last
        #expect(finished?.type == EventType.runFinished && finished?.dataValue["signal"]?.intValue == 9)
        #expect(try eventually(timeout: 5) { Proc.liveMembers(ofGroup: pgid).isEmpty })
    }

    @Test func askBlocksUntilApprovedOrRejectedAndCannotDecideItself() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("""
            test -z "$M_DB" && echo no-db-in-env
            mcli ask "deploy?"; echo "first=$?"
            mcli ask "really?"; echo "second=$?"
            mcli approve 1; echo "self-approve=$?"
            """)
        let firstApproval = try #require(try awaitPending(h, id))
        #expect(try h.db.run(id).status == .waitingApproval)
        #expect(try !h.text(id).contains("first="), "mcli ask must block until decided")
        let approved = try Exec.run("mcli", ["approve", "--db", h.tmp.dbPath, String(firstApproval.id), "--note", "go ahead"])
        #expect(approved.status == 0, "\(approved.stderr)")
        let second = try #require(try awaitPending(h, id, after: firstApproval.id))
        #expect(second.title == "really?")
        try Exec.run("mcli", ["reject", "--db", h.tmp.dbPath, String(second.id), "--note", "not now"])
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("no-db-in-env"))
        #expect(out.contains("go ahead\nfirst=0"))
        #expect(out.contains("not now\nsecond=1"))
        #expect(out.contains("self-approve=2"))
        #expect(try h.db.approval(firstApproval.id).resolvedBy?.hasPrefix("cli:") == true)
    }

    @Test func anUnansweredAskExpiresAndExitsOne() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create(#"mcli ask "anyone?" --timeout 1; echo "code=$?""#)
        let run = try h.finished(id, timeout: 30)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try h.text(id).contains("code=1"))
        #expect(try h.db.approvals(runId: id).first?.status == .expired)
    }

    @Test func askOutsideARunExplainsItself() throws {
        let result = try Exec.run("mcli", ["ask", "anything?"], env: ["M_AGENT_SOCKET": ""])
        #expect(result.status == 2)
        #expect(result.stderr.contains("mcli ask must run inside an M run (M_AGENT_SOCKET is not set)"))
    }

    private func awaitPending(_ h: MexecHarness, _ runId: Int64, after: Int64 = 0) throws -> Approval? {
        var found: Approval?
        _ = try eventually(timeout: 30) {
            found = try h.db.approvals(status: .pending, runId: runId).first { $0.id > after }
            return found != nil
        }
        return found
    }
}
