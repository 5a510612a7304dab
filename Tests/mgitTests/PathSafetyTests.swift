import Foundation
import MTestSupport
import Testing
import mgit

@Suite struct PathSafetyTests {
    @Test func symlinkPointingOutIsShownAsALinkAndNeverFollowed() async throws {
        let fx = GitFixture()
        let outside = fx.root + "/outside"
        try fx.write(outside + "/secret.txt", "TOP SECRET\n")
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        try FileManager.default.createSymbolicLink(atPath: ws + "/escape", withDestinationPath: outside + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: ws + "/linkdir", withDestinationPath: outside)

        let diff = try await baseline.diff()
        #expect(diff.files.map(\.path).sorted() == ["escape", "linkdir"])
        #expect(diff.files.allSatisfy { $0.status == .added && $0.additions == 1 })
        #expect(diff.patch.contains("new file mode 120000"))
        #expect(diff.patch.contains("+" + outside + "/secret.txt"))
        #expect(!diff.patch.contains("TOP SECRET"))
    }

    @Test func rejectRemovesALinkPutWhereAFolderWasWithoutWritingThroughIt() async throws {
        let fx = GitFixture()
        let outside = fx.root + "/outside"
        try fx.write(outside + "/theirs.txt", "not the workspace's\n")
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        let approvedState = try fx.contents(of: ws)
        let outsideBefore = try fx.contents(of: outside)
        try FileManager.default.removeItem(atPath: ws + "/src")
        try FileManager.default.createSymbolicLink(atPath: ws + "/src", withDestinationPath: outside)

        try await baseline.reject()
        #expect(try fx.contents(of: ws) == approvedState)
        #expect(try fx.contents(of: outside) == outsideBefore)
    }

    /// A patch creating `path`, hand-written as an attacker would.
    func patchCreating(_ path: String) -> [UInt8] {
        Array("""
        diff --git a/\(path) b/\(path)
        new file mode 100644
        --- /dev/null
        +++ b/\(path)
        @@ -0,0 +1 @@
        +pwned

        """.utf8)
    }

    @Test func patchesThatClimbOutOrAreAbsoluteOrReachIntoGitAreRefused() async throws {
        let fx = GitFixture()
        let origin = try fx.makeOrigin()
        let target = try await TargetCheckout.open(origin)
        let headBefore = try fx.git(origin, "rev-parse", "HEAD")
        for path in ["../escape.txt", "src/../../escape.txt", fx.root + "/absolute.txt", ".git/hooks/pre-commit"] {
            await #expect(throws: GitError.self, "\(path)") {
                _ = try await target.apply(patch: patchCreating(path), approver: approver, message: "evil")
            }
            do {
                _ = try await target.apply(patch: patchCreating(path), approver: approver, message: "evil")
            } catch let error as GitError {
                guard case .unsafePath = error else { Issue.record("\(path): \(error)"); continue }
            }
        }
        #expect(!fx.exists(fx.root + "/escape.txt") && !fx.exists(fx.root + "/absolute.txt"))
        #expect(!fx.exists(origin + "/.git/hooks/pre-commit"))
        #expect(try fx.git(origin, "rev-parse", "HEAD") == headBefore)
        #expect(try fx.git(origin, "status", "--porcelain").isEmpty)
    }

    @Test func patchWritingThroughASymlinkInTheTargetIsRefused() async throws {
        let fx = GitFixture()
        let outside = fx.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let origin = try fx.makeOrigin()
        try FileManager.default.createSymbolicLink(atPath: origin + "/link", withDestinationPath: outside)
        try fx.git(origin, "add", "link")
        try fx.git(origin, "commit", "--quiet", "-m", "a link out")
        let target = try await TargetCheckout.open(origin)
        await #expect(throws: GitError.self) {
            _ = try await target.apply(patch: patchCreating("link/evil.txt"), approver: approver, message: "evil")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        #expect(try fx.git(origin, "status", "--porcelain").isEmpty)
    }

    @Test func textThatLooksLikeAnOptionStaysText() async throws {
        let fx = GitFixture()
        let ws = try fx.cloneWorkspace(of: try fx.makeOrigin())
        let baseline = try await Baseline.start(workspace: ws, historyGitDir: fx.root + "/run/baseline.git")
        try fx.write(ws + "/--output=" + fx.root + "/pwned", "a file with a hostile name\n")
        try fx.write(ws + "/-rf", "another\n")
        let diff = try await baseline.diff()
        #expect(Set(diff.files.map(\.path)) == ["--output=" + fx.root + "/pwned", "-rf"])
        let approved = try await baseline.approve(diff, approver: approver, message: "--amend\n-m evil")
        #expect(try fx.git(ws, "log", "-1", "--format=%B", approved.commit.hex).hasPrefix("--amend\n-m evil\n"))
        #expect(!fx.exists(fx.root + "/pwned"))
        #expect(throws: GitError.self) { try GitIdentity(name: "Eve\nInjected: header", email: "eve@example.com") }
    }

    @Test func safePathRules() throws {
        for good in ["a.txt", "dir/b.txt", "weird name/with spaces", "..hidden", "a/.gitignore"] {
            #expect(throws: Never.self) { try SafePath.check(good) }
        }
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", ".git/config", "sub/.GIT/x"] {
            #expect(throws: GitError.self, "\(bad)") { try SafePath.check(bad) }
        }
    }
}
