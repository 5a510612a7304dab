import Foundation
import MTestSupport
import Testing
import mdb

@Suite struct WorkspaceTests {
    @Test func everyRunGetsItsOwnWorkspaceAsCWD() throws {
        let h = try MexecHarness()
        try h.start()
        let a = try h.create("pwd; touch mine")
        let b = try h.create(argv: ["/bin/sh", "-c", "pwd; ls"])
        let ra = try h.finished(a), rb = try h.finished(b)
        let root = Defaults.workspacesRoot(databasePath: h.tmp.dbPath, environment: ["XDG_STATE_HOME": h.tmp.file("state")])
        #expect(ra.workspace == root + "/\(a)")
        #expect(try h.text(a) == ra.workspace! + "\n")
        #expect(try h.text(b) == rb.workspace! + "\n", "the other run's file must not be visible")
    }

    @Test func aLocalRepoIsClonedAtTheRefAndBaseCommitRecorded() throws {
        let h = try MexecHarness()
        let repo = h.tmp.file("fixture")
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        let git = { (args: [String]) throws -> String in try Exec.git(repo, args) }
        _ = try git(["init", "-q"])
        try "v1\n".write(toFile: repo + "/file.txt", atomically: true, encoding: .utf8)
        _ = try git(["add", "."]); _ = try git(["commit", "-qm", "one"])
        let first = try git(["rev-parse", "HEAD"])
        try "v2\n".write(toFile: repo + "/file.txt", atomically: true, encoding: .utf8)
        _ = try git(["commit", "-qam", "two"])
        try h.start()
        let id = try h.create("cat file.txt; git rev-parse --show-toplevel", repo: repo, ref: first)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(run.baseCommit == first)
        #expect(try h.text(id) == "v1\n\(run.workspace!)\n")
    }

    @Test func aCloneFailureEndsTheRunFailedWithAReadableNotice() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("echo never", repo: h.tmp.file("no-such-repo"))
        let run = try h.finished(id, timeout: 30)
        #expect(run.status == .failed)
        let notice = try h.events(id).first { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("git clone of") && notice.contains("no-such-repo"), "\(notice)")
        #expect(try !h.text(id).contains("never"))
    }
}
