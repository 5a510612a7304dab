import GRDB

/// A row of `diff_requests`: someone asked for a fresh diff of a run's workspace.
public struct DiffRequest: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "diff_requests"

    public var id: Int64
    public var runId: Int64
    public var requestedBy: String
    public var createdAt: String
    public var handledAt: String?
    public var diffId: Int64?

    enum CodingKeys: String, CodingKey {
        case id
        case runId = "run_id", requestedBy = "requested_by", createdAt = "created_at"
        case handledAt = "handled_at", diffId = "diff_id"
    }
}
