import GRDB

/// A row of `diffs`: a workspace's changes against its last approved point.
public struct Diff: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "diffs"

    public var id: Int64
    public var runId: Int64
    public var base: String?
    public var message: String
    public var patch: String
    /// JSON array of `{path, status, old_path?, binary, additions, deletions}`.
    public var files: String
    public var additions: Int
    public var deletions: Int
    public var truncated: Bool
    public var status: String
    public var createdAt: String
    public var appliedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, base, message, patch, files, additions, deletions, truncated, status
        case runId = "run_id", createdAt = "created_at", appliedAt = "applied_at"
    }
}
