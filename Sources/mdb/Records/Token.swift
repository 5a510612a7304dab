import GRDB

/// A row of `tokens`: an API credential, stored as a hash of its secret.
public struct Token: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "tokens"

    public var id: Int64
    public var name: String
    public var scope: String
    public var hash: String
    public var createdAt: String
    public var lastUsedAt: String?
    public var revokedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, scope, hash
        case createdAt = "created_at", lastUsedAt = "last_used_at", revokedAt = "revoked_at"
    }
}
