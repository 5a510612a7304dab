import GRDB

/// A row of `push_subscriptions`: a browser's Web Push endpoint or the native app's APNs device token.
public struct PushSubscription: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "push_subscriptions"

    public var id: Int64
    /// `webpush` or `apns` (the notifier kind that sends to it).
    public var kind: String
    /// The Web Push endpoint URL, or the APNs device token (hex).
    public var endpoint: String
    /// Web Push: the browser's public key (base64url, an uncompressed P-256 point).
    public var p256dh: String?
    /// Web Push: the browser's auth secret (base64url, 16 bytes).
    public var auth: String?
    public var createdAt: String
    public var lastSentAt: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, endpoint, p256dh, auth
        case createdAt = "created_at", lastSentAt = "last_sent_at"
    }

    /// The subscription as the API shows it: the endpoint, never the keys.
    public var json: JSONValue {
        .object([("id", .int(id)), ("kind", .string(kind)), ("endpoint", .string(endpoint)),
                 ("created_at", .string(createdAt)), ("last_sent_at", lastSentAt.map { .string($0) } ?? .null)])
    }
}

/// The server's VAPID key pair (base64url): the public key for browsers, the private one only for signing.
public struct VAPIDKeyPair: Sendable, Equatable {
    public var privateKey: String
    public var publicKey: String

    public init(privateKey: String, publicKey: String) {
        self.privateKey = privateKey
        self.publicKey = publicKey
    }
}
