import Foundation
import MTestSupport
import Testing
import mgit

/// `added +2 -0`, with ` binary` for binary files: one comparable line per file.
func summary(_ file: FileChange) -> String {
    "\(file.status.rawValue) +\(file.additions) -\(file.deletions)" + (file.binary ? " binary" : "")
}

@Suite struct BaselineTests {
    /// The agent's first round of work: every kind of change at once, plus an ignored file.
    func makeFirstChanges(_ fx: GitFixture, in ws: String) throws {
        try fx.write(ws + "/src/main.txt", (1...10).map { $0 == 3 ? "line three, changed" : "line \($0)" }
            .joined(separator: "\n") + "\nline 11\n")
        try fx.write(ws + "/new.txt", "brand\nnew\n")
        try FileManager.default.removeItem(atPath: ws + "/notes.txt")
        try FileManager.default.moveItem(atPath: ws + "/old-name.txt", toPath: ws + "/new-name.txt")
        try fx.chmod(ws + "/tool.sh", 0o755)
        try fx.write(ws + "/image.bin", binaryBytes)
        try fx.write(ws + "/debug.log", "ignored by .gitignore\n")
    }

    @Test func cloneDiffListsExactlyTheChangesAndApproveCommitsThem() async throws {
        let fx = GitFixture()
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        let start = try fx.git(ws, "rev-parse", "HEAD")
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        #expect(baseline.kind == .clone)
        #expect(try await baseline.approvedCommit().hex == start)
        try makeFirstChanges(fx, in: ws)

        let diff = try await baseline.diff()
        let byPath = Dictionary(uniqueKeysWithValues: diff.files.map { ($0.path, $0) })
        #expect(Set(byPath.keys) == ["src/main.txt", "new.txt", "notes.txt", "new-name.txt", "tool.sh", "image.bin"])
        #expect(byPath["src/main.txt"].map(summary) == "modified +2 -1")
        #expect(byPath["new.txt"].map(summary) == "added +2 -0")
        #expect(byPath["notes.txt"].map(summary) == "deleted +0 -3")
        #expect(byPath["new-name.txt"]?.status == .renamed)
        #expect(byPath["new-name.txt"]?.oldPath == "old-name.txt")
        #expect(byPath["tool.sh"]?.status == .modified)
        #expect(byPath["tool.sh"]?.modeChange == FileChange.ModeChange(from: "100644", to: "100755"))
        #expect(byPath["image.bin"].map(summary) == "added +0 -0 binary")
        #expect(diff.files.filter(\.binary).map(\.path) == ["image.bin"])
        #expect(diff.additions == 4 && diff.deletions == 4)
        #expect(diff.patch.contains("Binary files /dev/null and b/image.bin differ"))
        #expect(!diff.patch.contains("GIT binary patch") && !diff.patch.contains("\0"))
        #expect(!diff.patch.contains("debug.log"))
        #expect(!diff.truncated && !diff.isEmpty)
        #expect(diff.base.hex == start)
        #expect(diff.filesJSON().contains(#""old_path":"old-name.txt""#))
        // Diffing touched neither the agent's index nor its branch.
        #expect(try fx.git(ws, "rev-parse", "HEAD") == start)
        #expect(try fx.git(ws, "diff", "--cached", "--name-only").isEmpty)

        // The agent keeps writing after the diff: approving still commits exactly what was shown.
        try fx.write(ws + "/late.txt", "written after the diff\n")
        let approved = try await baseline.approve(diff, approver: approver, message: "Refactor the fixture")
        #expect(approved.previous.hex == start && approved.branchUpdated)
        #expect(try fx.git(ws, "rev-parse", "HEAD") == approved.commit.hex)
        #expect(try await baseline.approvedCommit() == approved.commit)
        let changed = try fx.git(ws, "diff-tree", "-r", "-M", "--name-status", "--no-commit-id", start, approved.commit.hex)
        #expect(changed.split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: " ") }.sorted() == [
            "A image.bin", "A new.txt", "D notes.txt", "M src/main.txt", "M tool.sh", "R100 old-name.txt new-name.txt",
        ])
        #expect(try fx.git(ws, "log", "-1", "--format=%an <%ae>|%cn|%s") == "Ada Approver <ada@example.com>|Ada Approver|Refactor the fixture")
        #expect(try fx.git(ws, "log", "-1", "--format=%b").contains("Approved-by: Ada Approver <ada@example.com>"))
        // Only what came after the diff is still pending.
        #expect(try fx.git(ws, "status", "--porcelain") == "?? late.txt")
        try FileManager.default.removeItem(atPath: ws + "/late.txt")

        // Second round: rejected. The workspace returns byte for byte to the approved commit.
        let approvedState = try fx.contents(of: ws)
        try fx.write(ws + "/README.md", "# Rewritten\n")
        try fx.write(ws + "/extra.txt", "untracked addition\n")
        try fx.write(ws + "/deep/nested/file.txt", "in a new folder\n")
        try FileManager.default.removeItem(atPath: ws + "/new.txt")
        try fx.chmod(ws + "/run.sh", 0o644)
        try fx.write(ws + "/debug2.log", "ignored, stays\n")
        #expect(try await baseline.diff().files.count == 5)
        let kept = try await baseline.reject()
        #expect(kept != nil)
        var expected = approvedState
        expected["debug2.log"] = try fx.contents(of: ws)["debug2.log"]
        #expect(try fx.contents(of: ws) == expected)
        #expect(try fx.git(ws, "rev-parse", "HEAD") == approved.commit.hex)
        #expect(try fx.git(ws, "status", "--porcelain").isEmpty)
        #expect(try await baseline.diff().isEmpty)
        // What was thrown away is still reachable under refs/m/rejected.
        #expect(try fx.git(ws, "show", "refs/m/rejected:extra.txt") == "untracked addition")
    }

    @Test func plainFolderKeepsItsHistoryOutsideTheWorkspace() async throws {
        let fx = GitFixture()
        let ws = fx.root + "/plain"
        let history = fx.root + "/run/baseline.git"
        try fx.write(ws + "/a.txt", "alpha\n")
        try fx.write(ws + "/dir/b.txt", "beta\n")
        try fx.write(ws + "/script.sh", "#!/bin/sh\n")
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: history)
        #expect(baseline.kind == .snapshot)
        #expect(try await baseline.diff().isEmpty)

        try fx.write(ws + "/a.txt", "alpha\nmore\n")
        try fx.write(ws + "/c.txt", "gamma\n")
        try FileManager.default.removeItem(atPath: ws + "/dir/b.txt")
        try fx.chmod(ws + "/script.sh", 0o755)
        let diff = try await baseline.diff()
        #expect(Dictionary(uniqueKeysWithValues: diff.files.map { ($0.path, $0.status) })
            == ["a.txt": .modified, "c.txt": .added, "dir/b.txt": .deleted, "script.sh": .modified])
        let approved = try await baseline.approve(diff, approver: approver, message: "first round")
        #expect(try fx.git(history, "log", "-1", "--format=%an|%s", approved.commit.hex) == "Ada Approver|first round")

        // Reopening (an executor restart) keeps the approved point.
        let reopened = try await Baseline.start(workspace: ws, historyGitDir: history)
        #expect(try await reopened.approvedCommit() == approved.commit)

        let approvedState = try fx.contents(of: ws)
        try fx.write(ws + "/a.txt", "overwritten\n")
        try fx.write(ws + "/d.txt", "delta\n")
        try FileManager.default.removeItem(atPath: ws + "/c.txt")
        try await reopened.reject()
        #expect(try fx.contents(of: ws) == approvedState)
        #expect(!fx.exists(ws + "/.git"))
        #expect(try await reopened.diff().isEmpty)
    }

    @Test func cleanWorkspaceHasNothingToPropose() async throws {
        let fx = GitFixture()
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        try fx.write(ws + "/only.log", "ignored\n")
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        let diff = try await baseline.diff()
        #expect(diff.isEmpty && diff.patch.isEmpty && diff.files.isEmpty && diff.proposal == nil)
        await #expect(throws: GitError.nothingToApprove) {
            _ = try await baseline.approve(diff, approver: approver, message: "nothing")
        }
    }

    @Test func bigPatchIsCutWithAMarkerAndTheFileListStaysComplete() async throws {
        let fx = GitFixture()
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        try fx.write(ws + "/big.txt", (1...5_000).map { "generated line \($0)" }.joined(separator: "\n") + "\n")
        try fx.write(ws + "/small.txt", "small\n")
        let diff = try await baseline.diff(maxPatchBytes: 2_000)
        #expect(diff.truncated)
        #expect(diff.patchBytes > 50_000)
        #expect(diff.patch.hasSuffix("of \(diff.patchBytes) bytes; the file list is complete\n"))
        #expect(diff.patch.contains("\n# M: patch truncated: showing "))
        #expect(diff.patch.utf8.count <= 2_000 + 100)
        #expect(Set(diff.files.map(\.path)) == ["big.txt", "small.txt"])
        #expect(diff.additions == 5_001)
        let full = try await baseline.diff()
        #expect(!full.truncated && full.patch.utf8.count == full.patchBytes)
    }

    @Test func approvingAfterTheApprovedPointMovedIsRefused() async throws {
        let fx = GitFixture()
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        try fx.write(ws + "/x.txt", "x\n")
        let first = try await baseline.diff()
        let second = try await baseline.diff()
        _ = try await baseline.approve(first, approver: approver, message: "first")
        await #expect(throws: GitError.self) {
            _ = try await baseline.approve(second, approver: approver, message: "stale")
        }
    }
}
