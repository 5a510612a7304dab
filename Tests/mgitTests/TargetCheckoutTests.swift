import Foundation
import MTestSupport
import Testing
import mgit

@Suite struct TargetCheckoutTests {
    /// A workspace cloned from `origin` (the target), with one approved change to `src/main.txt`
    /// line 3 and a new binary file.
    func approvedChange(_ fx: GitFixture) async throws -> (origin: String, baseline: Baseline, approved: Baseline.Approved) {
        let origin = try fx.makeOrigin()
        let ws = try fx.cloneWorkspace(of: origin)
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        try fx.write(ws + "/src/main.txt", (1...10).map { $0 == 3 ? "line 3 from the agent" : "line \($0)" }
            .joined(separator: "\n") + "\n")
        try fx.write(ws + "/image.bin", binaryBytes)
        let approved = try await baseline.approve(try await baseline.diff(), approver: approver, message: "agent change")
        return (origin, baseline, approved)
    }

    @Test func conflictingMoveIsReportedAndTheTargetIsLeftUntouched() async throws {
        let fx = GitFixture()
        let (origin, baseline, approved) = try await approvedChange(fx)
        // Meanwhile someone changed the same line in the target.
        try fx.write(origin + "/src/main.txt", (1...10).map { $0 == 3 ? "line 3 from a person" : "line \($0)" }
            .joined(separator: "\n") + "\n")
        try fx.git(origin, "commit", "--quiet", "-am", "person")
        let headBefore = try fx.git(origin, "rev-parse", "HEAD")
        let filesBefore = try fx.contents(of: origin)

        let target = try await TargetCheckout.open(origin)
        let outcome = try await baseline.apply(approved, to: target, approver: approver, message: "agent change")
        guard case .conflict(let files, _) = outcome else { Issue.record("expected a conflict, got \(outcome)"); return }
        #expect(files == ["src/main.txt"])
        #expect(try fx.git(origin, "rev-parse", "HEAD") == headBefore)
        #expect(try fx.git(origin, "status", "--porcelain").isEmpty)
        #expect(try fx.contents(of: origin) == filesBefore)
    }

    @Test func nonConflictingMoveIsAppliedAsOneCommit() async throws {
        let fx = GitFixture()
        let (origin, baseline, approved) = try await approvedChange(fx)
        try fx.write(origin + "/README.md", "# Fixture, moved on\n")
        try fx.git(origin, "commit", "--quiet", "-am", "person")
        let headBefore = try fx.git(origin, "rev-parse", "HEAD")

        let outcome = try await baseline.apply(approved, to: try await TargetCheckout.open(origin),
                                               approver: approver, message: "agent change")
        guard case .applied(let commit) = outcome else { Issue.record("expected applied, got \(outcome)"); return }
        #expect(try fx.git(origin, "rev-parse", "HEAD") == commit.hex)
        #expect(try fx.git(origin, "rev-parse", "HEAD^") == headBefore)
        #expect(try fx.git(origin, "status", "--porcelain").isEmpty)
        #expect(fx.read(origin + "/src/main.txt")?.contains("line 3 from the agent") == true)
        #expect(fx.read(origin + "/README.md") == "# Fixture, moved on\n")
        #expect(FileManager.default.contents(atPath: origin + "/image.bin") == binaryBytes)
        #expect(try fx.git(origin, "log", "-1", "--format=%an|%s") == "Ada Approver|agent change")
    }

    @Test func uncommittedWorkInTheTargetIsNeverMergedOver() async throws {
        let fx = GitFixture()
        let (origin, baseline, approved) = try await approvedChange(fx)
        try fx.write(origin + "/src/main.txt", "a person's unsaved work\n")
        let headBefore = try fx.git(origin, "rev-parse", "HEAD")
        let outcome = try await baseline.apply(approved, to: try await TargetCheckout.open(origin),
                                               approver: approver, message: "agent change")
        guard case .conflict(let files, _) = outcome else { Issue.record("expected a conflict, got \(outcome)"); return }
        #expect(files == ["src/main.txt"])
        #expect(fx.read(origin + "/src/main.txt") == "a person's unsaved work\n")
        #expect(try fx.git(origin, "rev-parse", "HEAD") == headBefore)
    }
}
