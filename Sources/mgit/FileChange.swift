/// How one file differs from the approved point.
public struct FileChange: Sendable, Equatable, Codable {
    /// What happened to a file, as `diffs.files[].status` spells it.
    public enum Status: String, Sendable, Codable {
        case added, modified, deleted, renamed, copied
        case typeChanged = "type_changed"
    }

    /// A file's mode before and after (`100644` → `100755` for chmod +x).
    public struct ModeChange: Sendable, Equatable, Codable {
        /// The old mode, octal as git prints it.
        public var from: String
        /// The new mode.
        public var to: String

        /// A mode change from `from` to `to`.
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    /// The path after the change (for a deletion, the deleted path).
    public var path: String
    /// What happened.
    public var status: Status
    /// The path before a rename or copy.
    public var oldPath: String?
    /// Whether git sees the content as binary (counted as 0 lines, shown as "Binary files … differ").
    public var binary: Bool
    /// Lines added.
    public var additions: Int
    /// Lines deleted.
    public var deletions: Int
    /// Set when the file mode changed (executable bit, file ↔ symlink).
    public var modeChange: ModeChange?

    enum CodingKeys: String, CodingKey {
        case path, status, binary, additions, deletions
        case oldPath = "old_path", modeChange = "mode_change"
    }
}
