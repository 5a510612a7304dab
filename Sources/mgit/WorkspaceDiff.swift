import Foundation

/// Everything in a workspace against its last approved point, frozen as a tree so that approving
/// applies exactly what was shown even if the agent kept writing.
public struct WorkspaceDiff: Sendable, Equatable, Codable {
    /// The approved commit the diff starts from (`diffs.base`).
    public var base: ObjectID
    /// The tree the diff leads to: the workspace's state when the diff was made.
    public var tree: ObjectID
    /// A commit holding `tree` (parent `base`), kept under `refs/m/proposed` so it cannot be pruned.
    public var proposal: ObjectID?
    /// The workspace's HEAD when the diff was made (git clones only): the agent's own commits.
    public var head: ObjectID?
    /// The unified patch, cut at the size cap; binary files appear only as "Binary files … differ".
    public var patch: String
    /// One entry per changed file; always complete, even when the patch is cut.
    public var files: [FileChange]
    /// Lines added over all text files.
    public var additions: Int
    /// Lines deleted over all text files.
    public var deletions: Int
    /// Whether the patch was cut at the size cap (it then ends with `truncationMarker`).
    public var truncated: Bool
    /// The patch's full size in bytes before any cut.
    public var patchBytes: Int

    /// True when the workspace is exactly at the approved point: nothing to propose.
    public var isEmpty: Bool { files.isEmpty }

    /// `files` as the JSON array stored in `diffs.files`.
    public func filesJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(files)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// The line that ends a cut patch. It starts with `#`, which no patch line does, so a reader
    /// (or `git apply`) cannot mistake it for content.
    public static func truncationMarker(keptBytes: Int, totalBytes: Int) -> String {
        "# M: patch truncated: showing \(keptBytes) of \(totalBytes) bytes; the file list is complete\n"
    }

    enum CodingKeys: String, CodingKey {
        case base, tree, proposal, head, patch, files, additions, deletions, truncated
        case patchBytes = "patch_bytes"
    }
}
