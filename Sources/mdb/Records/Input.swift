import GRDB

/// A row of `inputs`: text a person typed for a run, delivered by its executor.
public struct Input: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "inputs"

    public var id: Int64
    public var runId: Int64
    public var text: String
    public var newline: Bool
    public var eof: Bool
    public var source: String
    public var createdAt: String
    public var deliveredAt: String?

    enum CodingKeys: String, CodingKey {
        case id, text, newline, eof, source
        case runId = "run_id", createdAt = "created_at", deliveredAt = "delivered_at"
    }
}
