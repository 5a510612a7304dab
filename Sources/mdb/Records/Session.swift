import GRDB

/// A row of `sessions`: a browser's login, made by exchanging a token.
public struct Session: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "sessions"

    public var id: Int64
    public var tokenId: Int64
    public var hash: String
    public var createdAt: String
    public var expiresAt: String
    public var lastUsedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, hash
        case tokenId = "token_id", createdAt = "created_at", expiresAt = "expires_at", lastUsedAt = "last_used_at"
    }
}
