import GRDB

/// A row of `approvals`: something a run waits for a person to decide.
public struct Approval: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "approvals"

    public var id: Int64
    public var runId: Int64
    public var kind: String
    public var title: String
    public var body: String
    public var payload: String
    public var diffId: Int64?
    public var status: ApprovalStatus
    public var createdAt: String
    public var expiresAt: String?
    public var resolvedAt: String?
    public var resolvedBy: String?
    public var note: String?
    public var always: Bool

    enum CodingKeys: String, CodingKey {
        case id, kind, title, body, payload, status, note, always
        case runId = "run_id", diffId = "diff_id", createdAt = "created_at", expiresAt = "expires_at"
        case resolvedAt = "resolved_at", resolvedBy = "resolved_by"
    }
}

/// Where an approval stands. Only `pending` can change, and only once.
public enum ApprovalStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case pending, approved, rejected, expired, canceled
}

/// A person's answer to an approval.
public enum Decision: String, Codable, Sendable, CaseIterable {
    case approve, reject

    /// The approval status this decision leads to.
    public var status: ApprovalStatus { self == .approve ? .approved : .rejected }
    /// The word used in `approval.resolved {decision}`.
    public var eventWord: String { self == .approve ? "approved" : "rejected" }
}
