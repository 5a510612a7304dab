import Foundation

/// A run's workspace and its last approved point: what a diff is measured against, what approve
/// moves forward and what reject returns to.
///
/// The approved point is the commit at `refs/m/approved`:
/// - in a **git clone** workspace it lives in the clone's own repository, starting at the HEAD the
///   run began with (`base_commit`); approving also moves the checked-out branch to the new commit
///   so the agent's `git log` and `git status` agree with what was approved;
/// - in a **plain folder** it lives in a private git dir outside the workspace (for example
///   `<run dir>/baseline.git`), driven with `--git-dir`/`--work-tree`, so no `.git` ever appears in
///   the workspace; the first approved point is a snapshot taken at run start.
public struct Baseline: Sendable {
    /// Where the history lives.
    public enum Kind: String, Sendable, Codable {
        /// The workspace is a git checkout; M keeps its refs under `refs/m/` in it.
        case clone
        /// The workspace is a plain folder; M keeps a private history beside it.
        case snapshot
    }

    /// The workspace folder (absolute).
    public let workspace: String
    /// The git dir holding the approved history.
    public let gitDir: String
    /// Clone or snapshot.
    public let kind: Kind

    /// The ref holding the last approved point.
    public static let approvedRef = "refs/m/approved"
    /// The ref holding the latest proposal, so its objects survive until decided.
    public static let proposedRef = "refs/m/proposed"
    /// The ref holding the workspace's state as it was when last rejected, so a reject loses nothing for good.
    public static let rejectedRef = "refs/m/rejected"

    let git: Git

    init(workspace: String, gitDir: String, kind: Kind) {
        self.workspace = workspace
        self.gitDir = gitDir
        self.kind = kind
        self.git = Git(gitDir: gitDir, workTree: workspace)
    }

    /// Sets up (or, after an executor restart, reopens) the approved point of `workspace`.
    ///
    /// A workspace that is the top of a git checkout becomes a `clone` baseline whose first
    /// approved point is its HEAD. Anything else becomes a `snapshot` baseline kept in
    /// `historyGitDir` (created if missing, and never inside the workspace), whose first approved
    /// point is the folder's content now. Calling it again keeps the existing approved point.
    public static func start(workspace: String, historyGitDir: String) async throws -> Baseline {
        let root = try checkedDirectory(workspace)
        guard historyGitDir.hasPrefix("/") else { throw GitError.pathNotAbsolute(historyGitDir) }
        if let gitDir = try await checkoutGitDir(root) {
            let baseline = Baseline(workspace: root, gitDir: gitDir, kind: .clone)
            if try await baseline.git.commit(approvedRef) == nil {
                guard let head = try await baseline.git.commit("HEAD") else { throw GitError.noCommits(root) }
                try await baseline.git.updateRef(approvedRef, to: head, expecting: nil)
            }
            return baseline
        }
        let history = URL(fileURLWithPath: historyGitDir).standardizedFileURL.path
        if history == root || history.hasPrefix(root + "/") {
            throw GitError.unsafePath(path: history, reason: "the baseline history must live outside the workspace")
        }
        let baseline = Baseline(workspace: root, gitDir: history, kind: .snapshot)
        if !FileManager.default.fileExists(atPath: history + "/HEAD") {
            try FileManager.default.createDirectory(atPath: history, withIntermediateDirectories: true)
            try await baseline.git.run(["init", "--quiet", "--bare", history], scoped: false)
            try await baseline.git.run(["config", "core.bare", "false"])
            // HEAD follows the approved ref, so `git --git-dir=… log` shows the approved history.
            try await baseline.git.run(["symbolic-ref", "HEAD", approvedRef])
        }
        if try await baseline.git.commit(approvedRef) == nil {
            let tree = try await baseline.git.snapshotTree(from: nil)
            let commit = try await baseline.git.commitTree(tree, parents: [], message: "M: workspace at run start\n",
                                                           identity: .system)
            try await baseline.git.updateRef(approvedRef, to: commit, expecting: nil)
            try await baseline.git.run(["read-tree", commit.hex])
        }
        return baseline
    }

    /// The commit of the last approved point.
    public func approvedCommit() async throws -> ObjectID {
        guard let id = try await git.commit(Self.approvedRef) else { throw GitError.noApprovedPoint(workspace) }
        return id
    }

    /// The last approved point's commit and tree, asked of one git process.
    func approvedCommitAndTree() async throws -> (commit: ObjectID, tree: ObjectID) {
        guard let found = try await git.commitAndTree(Self.approvedRef) else { throw GitError.noApprovedPoint(workspace) }
        return found
    }

    /// The folder's real absolute path, refusing relative paths and non-folders.
    static func checkedDirectory(_ path: String) throws -> String {
        guard path.hasPrefix("/") else { throw GitError.pathNotAbsolute(path) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GitError.notADirectory(path)
        }
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// The git dir of the checkout whose top is exactly `root`, or nil when `root` is not one
    /// (a plain folder, or a folder somewhere inside another checkout).
    static func checkoutGitDir(_ root: String) async throws -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root + "/.git", isDirectory: &isDirectory) else { return nil }
        let probe = Git(gitDir: root + "/.git", workTree: root)
        let top = try await probe.call(["rev-parse", "--show-toplevel"])
        guard top.status == 0, URL(fileURLWithPath: top.trimmed).resolvingSymlinksInPath().path == root else { return nil }
        let dir = try await probe.call(["rev-parse", "--absolute-git-dir"])
        guard dir.status == 0, dir.trimmed.hasPrefix("/") else { return nil }
        return dir.trimmed
    }
}
