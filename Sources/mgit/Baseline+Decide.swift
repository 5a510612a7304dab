/// Approving and rejecting a diff.
extension Baseline {
    /// What approving did.
    public struct Approved: Sendable, Equatable, Codable {
        /// The new approved point: a commit whose tree is exactly the diff's tree.
        public var commit: ObjectID
        /// The approved point before it; the change is `previous..commit`.
        public var previous: ObjectID
        /// Whether the workspace's checked-out branch was moved to `commit` (clones only). It is left
        /// alone when the agent moved HEAD after the diff was made; `refs/m/approved` moves either way.
        public var branchUpdated: Bool

        enum CodingKeys: String, CodingKey {
            case commit, previous
            case branchUpdated = "branch_updated"
        }
    }

    /// Commits exactly the state `diff` showed as the new approved point, authored and committed by
    /// `approver`, with `message` and an `Approved-by:` trailer. Refuses when the approved point
    /// moved since the diff was made.
    public func approve(_ diff: WorkspaceDiff, approver: GitIdentity, message: String) async throws -> Approved {
        guard !diff.isEmpty else { throw GitError.nothingToApprove }
        let base = try await approvedCommit()
        guard base == diff.base else { throw GitError.approvedPointMoved(expected: diff.base.hex, actual: base.hex) }

        // In a clone the agent may have committed on its own; when those commits lead on from the
        // approved point they become the new commit's parent, so history stays linear.
        var parent = base
        if kind == .clone, let head = diff.head, head != base,
           try await git.call(["merge-base", "--is-ancestor", base.hex, head.hex]).status == 0 {
            parent = head
        }
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        let body = (text.isEmpty ? "Approved change" : text) + "\n\nApproved-by: \(approver.name) <\(approver.email)>\n"
        let commit = try await git.commitTree(diff.tree, parents: [parent], message: body, identity: approver)
        try await git.updateRef(Self.approvedRef, to: commit, expecting: base)

        var branchUpdated = false
        switch kind {
        case .clone:
            let headNow = try await git.commit("HEAD")
            if let headNow, headNow == diff.head || headNow == parent {
                try await git.updateRef("HEAD", to: commit, expecting: headNow)
                // The index follows HEAD (the work tree is untouched), so `git status` shows only
                // what changed after the approved state.
                try await git.run(["read-tree", commit.hex])
                _ = try await git.call(["update-index", "-q", "--refresh"])
                branchUpdated = true
            }
        case .snapshot:
            try await git.run(["read-tree", commit.hex])
        }
        return Approved(commit: commit, previous: base, branchUpdated: branchUpdated)
    }

    /// Returns the workspace to the last approved point: tracked changes reverted, deleted files
    /// restored, untracked files removed; ignored files are left alone. The state being thrown away
    /// is first kept as a commit under `refs/m/rejected`.
    @discardableResult
    public func reject() async throws -> ObjectID? {
        let base = try await approvedCommit()
        let tree = try await git.snapshotTree(from: base)
        var kept: ObjectID? = nil
        if try await tree != git.tree(of: base) {
            let commit = try await git.commitTree(tree, parents: [base], message: "M: rejected state\n", identity: .system)
            try await git.run(["update-ref", "-m", "M", Self.rejectedRef, commit.hex])
            kept = commit
        }
        // `reset --hard` and `clean` never follow a symbolic link out of the work tree: a link the
        // agent put where a folder was is removed, not written through.
        try await git.run(["reset", "--quiet", "--hard", base.hex])
        try await git.run(["clean", "--force", "-d", "--quiet", "--", "."])
        return kept
    }
}
