import Foundation

/// Another local git checkout that a run's approved changes are carried to (the run's "target").
///
/// Applying never leaves the target half-done: the patch is applied with a three-way merge into a
/// temporary index (the target's own index and files are not touched), and only a clean result
/// becomes a commit that the target's branch fast-forwards to. A conflict is reported with its
/// files and the target stays exactly as it was.
public struct TargetCheckout: Sendable {
    /// The checkout's top folder (absolute, symlinks resolved).
    public let root: String
    let git: Git

    /// What applying did.
    public enum Outcome: Sendable, Equatable {
        /// Applied and committed on the target's current branch.
        case applied(commit: ObjectID)
        /// Not applied: these files conflict with what the target has now (or have uncommitted
        /// changes there). The target is untouched.
        case conflict(files: [String], detail: String)
    }

    /// Opens the checkout whose top is `path`; refuses anything else.
    public static func open(_ path: String) async throws -> TargetCheckout {
        let root = try Baseline.checkedDirectory(path)
        guard let gitDir = try await Baseline.checkoutGitDir(root) else { throw GitError.notACheckout(path) }
        return TargetCheckout(root: root, git: Git(gitDir: gitDir, workTree: root))
    }

    /// Applies a git patch (as `git diff-tree -p --binary --full-index` makes it) as one commit.
    /// Every path in it is checked first: relative, no `..`, not into `.git`, no symbolic link in
    /// the target on the way.
    public func apply(patch: [UInt8], approver: GitIdentity, message: String) async throws -> Outcome {
        let paths = Array(Set(PatchPaths.paths(in: String(decoding: patch, as: UTF8.self)))).sorted()
        for path in paths {
            try SafePath.check(path)
            try SafePath.checkNoSymlinkOnTheWay(path, in: root)
        }
        guard !paths.isEmpty else { throw GitError.nothingToApprove }
        guard let head = try await git.commit("HEAD") else { throw GitError.noCommits(root) }

        // Files with uncommitted changes in the target are the person's work in progress: never
        // merge over them.
        let dirty = try await git.run(["status", "--porcelain", "-z", "--untracked-files=all", "--"] + paths)
        let dirtyFiles = Set(dirty.stdout.split(separator: 0).compactMap { record -> String? in
            let text = String(decoding: record, as: UTF8.self)
            return text.count > 3 ? String(text.dropFirst(3)) : nil
        }).intersection(paths)
        if !dirtyFiles.isEmpty {
            return .conflict(files: dirtyFiles.sorted(), detail: "uncommitted changes in the target")
        }

        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let index = scratch.path + "/index"
        try await git.run(["read-tree", head.hex], indexFile: index)
        let applied = try await git.call(["apply", "--cached", "--3way", "--whitespace=nowarn"], indexFile: index, stdin: patch)
        if applied.status != 0 {
            if applied.stderr.contains("beyond a symbolic link") {
                throw GitError.unsafePath(path: paths.joined(separator: ", "), reason: "it goes through a symbolic link in the target")
            }
            let unmerged = try await git.run(["ls-files", "--unmerged", "-z"], indexFile: index)
            var files = Set<String>()
            for record in unmerged.stdout.split(separator: 0) {
                let text = String(decoding: record, as: UTF8.self)
                if let tab = text.firstIndex(of: "\t") { files.insert(String(text[text.index(after: tab)...])) }
            }
            return .conflict(files: files.isEmpty ? paths : files.sorted(),
                             detail: applied.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let written = try await git.run(["write-tree"], indexFile: index)
        guard let tree = ObjectID(written.trimmed) else { throw GitError.unexpectedOutput(command: "write-tree", output: written.trimmed) }
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        let body = (text.isEmpty ? "Approved change" : text) + "\n\nApproved-by: \(approver.name) <\(approver.email)>\n"
        let commit = try await git.commitTree(tree, parents: [head], message: body, identity: approver)
        // A fast-forward checks the files out only if none of them changed meanwhile, and moves the
        // branch only if it is still at `head`; otherwise it stops before touching anything.
        let merged = try await git.call(["merge", "--ff-only", "--quiet", "--no-edit", commit.hex], identity: approver)
        guard merged.status == 0 else {
            return .conflict(files: paths, detail: merged.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return .applied(commit: commit)
    }
}

extension Baseline {
    /// Carries an approval (`previous..commit` in this workspace) to `target` as one commit there.
    public func apply(_ approved: Approved, to target: TargetCheckout, approver: GitIdentity,
                      message: String) async throws -> TargetCheckout.Outcome {
        let patch = try await git.run(["diff-tree", "-p", "--binary", "--full-index", "-M", "--no-ext-diff",
                                       "--no-textconv", "--no-color", approved.previous.hex, approved.commit.hex])
        return try await target.apply(patch: patch.stdout, approver: approver, message: message)
    }
}
