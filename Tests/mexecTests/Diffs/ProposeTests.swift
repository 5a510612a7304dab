import Foundation
import MTestSupport
import Testing
import mdb

/// `mcli propose` end to end: a real mexec, a real clone, real git, mcli approve/reject.
@Suite struct ProposeTests {
    @Test func approvedChangesAreCommittedAndARejectedOneIsUndone() throws {
        let h = try MexecHarness()
        let repo = try h.fixtureRepo("repo", files: [
            "changed.txt": "one\n", "deleted.txt": "bye\n",
            "old-name.txt": "a file that is renamed\nwith enough lines\nto be seen as a rename\n",
        ])
        try h.start()
        let id = try h.create("""
            echo "one, changed" > changed.txt
            echo "new file" > added.txt
            rm deleted.txt
            mv old-name.txt new-name.txt
            printf '\\000\\001\\002\\003binary' > image.bin
            mcli propose --message "first change"; echo "propose1=$?"
            echo "more" >> changed.txt
            echo junk > junk.txt
            mcli propose --message "second change"; echo "propose2=$?"
            echo "agent still here"
            """, repo: repo)

        let first = try #require(try h.pendingApproval(id), "\(h.logs)")
        #expect(first.kind == "diff" && first.title == "first change")
        #expect(try h.db.run(id).status == .waitingApproval)
        let diffId = try #require(first.diffId)
        let diff = try h.db.diff(diffId)
        let files = try h.files(of: diff)
        #expect(Set(files.keys) == ["changed.txt", "added.txt", "deleted.txt", "new-name.txt", "image.bin"])
        #expect(files["changed.txt"]?.status == "modified")
        #expect(files["added.txt"]?.status == "added")
        #expect(files["deleted.txt"]?.status == "deleted")
        #expect(files["new-name.txt"]?.status == "renamed" && files["new-name.txt"]?.oldPath == "old-name.txt")
        #expect(files["image.bin"]?.status == "added" && files["image.bin"]?.binary == true)
        #expect(diff.patch.contains("Binary files /dev/null and b/image.bin differ"))
        #expect(!diff.patch.contains("GIT binary patch") && !diff.patch.contains("\u{3}binary"), "binary content is never dumped")
        let baseCommit = try h.db.run(id).baseCommit
        #expect(diff.status == "proposed" && diff.base == baseCommit)
        let created = try h.events(id).first { $0.type == EventType.diffCreated }
        #expect(created?.dataValue["diff_id"]?.intValue == diffId && created?.dataValue["files"]?.intValue == 5)
        let requested = try h.events(id).last { $0.type == EventType.approvalRequested }
        #expect(requested?.dataValue["diff_id"]?.intValue == diffId)
        #expect(try !h.text(id).contains("propose1="), "mcli propose blocks until decided")

        // mcli diff prints the patch, plain when stdout is not a terminal; --json parses the files.
        let shown = try Exec.run("mcli", ["diff", "--db", h.tmp.dbPath, String(diffId)])
        #expect(shown.status == 0 && shown.stdout == diff.patch && !shown.stdout.contains("\u{1B}["))
        let json = try Exec.run("mcli", ["diff", "--db", h.tmp.dbPath, "--json", String(diffId)])
        let parsed = try JSONValue.parse(json.stdout)
        if case .array(let items)? = parsed["files"] { #expect(items.count == 5) } else { Issue.record("files is not a list: \(json.stdout)") }
        #expect(parsed["patch"]?.stringValue == diff.patch)

        #expect(try h.decide("approve", first.id).status == 0)
        let second = try #require(try h.pendingApproval(id, after: first.id), "\(h.logs)")
        let workspace = try #require(try h.db.run(id).workspace)
        let approvedCommit = try h.git(workspace, "rev-parse", "HEAD")
        let firstOut = try h.text(id)
        #expect(firstOut.contains("approved by cli:") && firstOut.contains("committed \(approvedCommit)\npropose1=0"), "\(firstOut)")
        // The commit holds exactly the proposed changes, authored by whoever approved.
        let changes = try h.git(workspace, "diff-tree", "-r", "-M", "--name-status", "HEAD~1", "HEAD")
        #expect(Set(changes.split(separator: "\n").map { $0.split(separator: "\t").joined(separator: " ") }) == [
            "A added.txt", "M changed.txt", "D deleted.txt", "A image.bin", "R100 old-name.txt new-name.txt",
        ])
        #expect(try h.git(workspace, "log", "-1", "--format=%an|%s").hasPrefix("cli:"))
        #expect(try h.git(workspace, "log", "-1", "--format=%s|%b").contains("first change|Approved-by: cli:"))
        let appliedDiff = try h.db.diff(diffId)
        #expect(appliedDiff.status == "applied" && appliedDiff.appliedAt != nil)
        let applied = try h.events(id).first { $0.type == EventType.diffApplied }
        #expect(applied?.dataValue["diff_id"]?.intValue == diffId && applied?.dataValue["commit"]?.stringValue == approvedCommit)

        let secondFiles = try h.files(of: h.db.diff(try #require(second.diffId)))
        #expect(Set(secondFiles.keys) == ["changed.txt", "junk.txt"])
        #expect(try h.decide("reject", second.id, note: "no junk, please").status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("no junk, please\npropose2=1\nagent still here"), "\(out)")
        // Back at the first approved commit: nothing of the rejected change is left.
        #expect(try h.git(workspace, "rev-parse", "HEAD") == approvedCommit)
        #expect(try h.git(workspace, "status", "--porcelain") == "")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/junk.txt"))
        #expect(try String(contentsOfFile: workspace + "/changed.txt", encoding: .utf8) == "one, changed\n")
        #expect(try h.db.diff(try #require(second.diffId)).status == "rejected")
        #expect(try h.db.diffs(runId: id).count == 2, "a clean workspace leaves no final diff")
    }

    @Test func aTargetThatMovedReportsTheConflictAndStaysUnchanged() throws {
        let h = try MexecHarness()
        let repo = try h.fixtureRepo("repo", files: ["a.txt": "line one\n", "b.txt": "bee\n"])
        let target = h.tmp.file("target")
        try h.git(h.tmp.path, "clone", "--quiet", repo, target)
        try h.start()
        let id = try h.create("""
            echo "agent's line" > a.txt
            mcli propose --message "change a"; echo "p1=$?"
            echo "bee, improved" > b.txt
            mcli propose --message "change b"; echo "p2=$?"
            """, repo: repo, target: target)
        let first = try #require(try h.pendingApproval(id), "\(h.logs)")
        // Meanwhile someone commits a different change to the same line in the target.
        try Data("person's line\n".utf8).write(to: URL(fileURLWithPath: target + "/a.txt"))
        try h.git(target, "commit", "--quiet", "-am", "person's change")
        let targetHead = try h.git(target, "rev-parse", "HEAD")

        #expect(try h.decide("approve", first.id).status == 0)
        let second = try #require(try h.pendingApproval(id, after: first.id), "\(h.logs)")
        let applied = try #require(try h.events(id).first { $0.type == EventType.diffApplied })
        #expect(applied.dataValue["target"]?["status"]?.stringValue == "conflict")
        #expect(applied.dataValue["target"]?["files"] == .array(["a.txt"]))
        let notice = try h.events(id).first { $0.type == EventType.notice && $0.seq > applied.seq }
        #expect(notice?.dataValue["level"]?.stringValue == "warning")
        #expect(notice?.dataValue["text"]?.stringValue?.contains("conflict in a.txt") == true)
        #expect(try h.git(target, "rev-parse", "HEAD") == targetHead)
        #expect(try h.git(target, "status", "--porcelain") == "")
        #expect(try String(contentsOfFile: target + "/a.txt", encoding: .utf8) == "person's line\n")
        let out = try h.text(id)
        #expect(out.contains("not applied to \(target): conflict in a.txt\np1=0"), "\(out)")

        // A change that does not conflict lands in the target as a commit on top of the person's.
        #expect(try h.decide("approve", second.id).status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try String(contentsOfFile: target + "/b.txt", encoding: .utf8) == "bee, improved\n")
        #expect(try h.git(target, "rev-parse", "HEAD~1") == targetHead)
        let last = try h.events(id).last { $0.type == EventType.diffApplied }
        #expect(last?.dataValue["target"]?["status"]?.stringValue == "applied")
    }

    @Test func aRequestedDiffAndTheFinalStateAreRecordedWithoutAnApproval() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("""
            mcli propose; echo "empty=$?"
            echo ready; read go
            echo hello > note.txt; echo changed; read done
            """)
        #expect(try h.waitForOutput(id, containing: "ready"), "\(h.logs)")
        #expect(try h.text(id).contains("empty=3"))
        let nothing = try h.db.requestDiff(runId: id, by: "test")
        #expect(try eventually(timeout: 30) { try h.db.pendingDiffRequests(runId: id).isEmpty }, "\(h.logs)")
        #expect(try h.events(id).contains { $0.type == EventType.notice && $0.dataValue["text"]?.stringValue?.contains("nothing changed") == true })
        #expect(try h.db.diffs(runId: id).isEmpty, "request \(nothing.id) found nothing to diff")

        try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "go"])
        #expect(try h.waitForOutput(id, containing: "changed"))
        _ = try h.db.requestDiff(runId: id, by: "test")
        var diffs: [Diff] = []
        #expect(try eventually(timeout: 30) { diffs = try h.db.diffs(runId: id); return !diffs.isEmpty }, "\(h.logs)")
        #expect(try Set(h.files(of: diffs[0]).keys) == ["note.txt"])
        #expect(diffs[0].status == "proposed" && diffs[0].message == "requested by test")
        #expect(try h.db.approvals(runId: id).isEmpty, "a requested diff asks nobody")

        try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "done"])
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        diffs = try h.db.diffs(runId: id)
        #expect(diffs.count == 2 && diffs[0].message == "changes left when the run ended")
        let events = try h.events(id)
        let finalDiff = try #require(events.last { $0.type == EventType.diffCreated })
        #expect(finalDiff.seq < events.last!.seq && events.last!.type == EventType.runFinished)
        #expect(throws: MDBError.runFinished(id: id, status: "succeeded")) { try h.db.requestDiff(runId: id, by: "test") }
    }

    @Test func aSymlinkPointingOutIsShownAsALinkAndRejectingRemovesOnlyTheLink() throws {
        let h = try MexecHarness()
        let outside = h.tmp.file("outside.txt")
        try Data("secret outside the workspace\n".utf8).write(to: URL(fileURLWithPath: outside))
        try h.start()
        let id = try h.create("""
            ln -s "$OUTSIDE" leak
            mcli propose; echo "p=$?"
            test -e leak || echo "link gone"
            """, env: ["OUTSIDE": outside])
        let approval = try #require(try h.pendingApproval(id), "\(h.logs)")
        let diff = try h.db.diff(try #require(approval.diffId))
        #expect(try Set(h.files(of: diff).keys) == ["leak"])
        #expect(diff.patch.contains("new file mode 120000") && diff.patch.contains("+\(outside)"))
        #expect(!diff.patch.contains("secret outside"), "the link's target is never read")
        #expect(try h.decide("reject", approval.id).status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try h.text(id).contains("p=1\nlink gone"))
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "secret outside the workspace\n")
    }
}
