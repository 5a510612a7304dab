/// Diffing the workspace against the approved point.
extension Baseline {
    /// Everything in the workspace against the last approved point: tracked changes, untracked files
    /// (ignored ones left out), deletions, renames, mode changes; binary files are marked and shown
    /// only as "Binary files … differ"; the patch is cut at `maxPatchBytes` with a marker line.
    /// The workspace's own index and branch are not touched.
    public func diff(maxPatchBytes: Int = MGitDefaults.maxPatchBytes) async throws -> WorkspaceDiff {
        let (base, baseTree) = try await approvedCommitAndTree()
        let tree = try await git.snapshotTree(from: base)
        let head = kind == .clone ? try await git.commit("HEAD") : nil
        if tree == baseTree {
            return WorkspaceDiff(base: base, tree: tree, proposal: nil, head: head, patch: "", files: [],
                                 additions: 0, deletions: 0, truncated: false, patchBytes: 0)
        }
        let proposal = try await git.commitTree(tree, parents: [base], message: "M: proposal\n", identity: .system)
        try await git.run(["update-ref", "-m", "M", Self.proposedRef, proposal.hex])

        let common = ["-r", "-M", "--no-ext-diff", "--no-textconv", "--no-color"]
        let raw = try await git.run(["diff-tree", "-z", "--raw"] + common + [base.hex, proposal.hex])
        let numstat = try await git.run(["diff-tree", "-z", "--numstat"] + common + [base.hex, proposal.hex])
        let files = DiffParser.files(raw: try DiffParser.raw(raw.stdout), counts: try DiffParser.numstat(numstat.stdout))
        for file in files {
            try SafePath.check(file.path)
            if let old = file.oldPath { try SafePath.check(old) }
        }

        let cap = max(0, maxPatchBytes)
        let (kept, total) = try await git.capped(["diff-tree", "-p"] + common + [base.hex, proposal.hex], capBytes: cap)
        var patch: String
        let truncated = total > kept.count
        if truncated {
            // Cut at the last whole line so the shown part is still a readable patch.
            let end = kept.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            patch = String(decoding: kept[..<end], as: UTF8.self)
            patch += WorkspaceDiff.truncationMarker(keptBytes: end, totalBytes: total)
        } else {
            patch = String(decoding: kept, as: UTF8.self)
        }
        return WorkspaceDiff(base: base, tree: tree, proposal: proposal, head: head, patch: patch, files: files,
                             additions: files.reduce(0) { $0 + $1.additions },
                             deletions: files.reduce(0) { $0 + $1.deletions },
                             truncated: truncated, patchBytes: total)
    }
}
