import GRDB

/// A row of `outbox`: one notification for one notifier, sent at least once.
public struct OutboxItem: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "outbox"

    public var id: Int64
    public var notifierId: Int64
    /// The event it tells of (0 for `mcli notify test`).
    public var eventId: Int64
    /// The same for every attempt (`X-M-Delivery`): a receiver drops repeats by it.
    public var dedupeKey: String
    /// The body sent, exactly (a webhook signs these bytes).
    public var payload: String
    /// `pending`, `sent`, or `failed` (gave up after `Defaults.outboxMaxAttempts`).
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: String
    public var lastError: String?
    public var createdAt: String
    public var sentAt: String?
    /// Set while a sender holds it; a row whose claim is older than the lease is due again.
    public var claimedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, payload, status, attempts
        case notifierId = "notifier_id", eventId = "event_id", dedupeKey = "dedupe_key"
        case nextAttemptAt = "next_attempt_at", lastError = "last_error", createdAt = "created_at"
        case sentAt = "sent_at", claimedAt = "claimed_at"
    }
}
