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
    /// For a pairing token: it is refused if it was not used by then.
    public var useBy: String?

    enum CodingKeys: String, CodingKey {
        case id, name, scope, hash
        case createdAt = "created_at", lastUsedAt = "last_used_at", revokedAt = "revoked_at", useBy = "use_by"
    }

    /// Whether the token works now, told from its columns.
    public enum State: String, Sendable {
        /// Revoked: refused, its sessions ended.
        case revoked
        /// A pairing token not used before its `use_by`: refused.
        case expired
        /// A pairing token that still waits for its first use.
        case pairing
        /// Usable.
        case active
    }

    /// The state at `now` (timestamps compare as text: they share one format).
    public func state(now: String = Timestamp.now()) -> State {
        if revokedAt != nil { return .revoked }
        guard lastUsedAt == nil, let useBy else { return .active }
        return useBy <= now ? .expired : .pairing
    }
}

/// What a token may do. Each scope includes the ones before it.
public enum TokenScope: String, Codable, Sendable, CaseIterable, Comparable {
    /// Observe: list and read runs, events, approvals, diffs; stream.
    case read
    /// Also create runs, send input, cancel, decide approvals, ask for diffs.
    case steer
    /// Also manage tokens and notifiers.
    case admin

    private var rank: Int { self == .read ? 0 : self == .steer ? 1 : 2 }
    public static func < (lhs: TokenScope, rhs: TokenScope) -> Bool { lhs.rank < rhs.rank }

    /// Whether a holder of this scope may do what `required` guards.
    public func allows(_ required: TokenScope) -> Bool { self >= required }
}
